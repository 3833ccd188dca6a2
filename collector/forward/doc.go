// Package forward ships the files a dnstap-collector writes (its spool) to a Destination,
// frame by frame in the order written, and never loses one on the way: a durable cursor
// (the files not yet shipped and the offset acknowledged in the first, saved with
// write-to-temp, fsync, rename and a directory fsync) moves only when the destination has
// acknowledged a batch; a failed send is retried, the same batch, after a jittered backoff;
// after a crash the forwarder resumes from the cursor, so at most the batch in flight is
// sent twice (counted). Retention asks it before deleting a file (collector.Spool): a file
// not yet shipped is kept, unless --keep-size must delete it to protect the disk, and then
// its frames are counted as evicted and logged with the file name.
//
// A Forwarder is the collector's Spool: create it first, pass it in collector.Config.Spool,
// then run both.
//
//	fw, err := forward.New(forward.Config{Destination: dest, Name: url, State: statePath,
//		List: func() ([]string, error) { return collector.ListSpool(ccfg) }}, log)
//	ccfg.Spool = fw
//	c, err := collector.New(ccfg, log)
//	go fw.Run(ctx)
//	err = c.Serve(ctx, lns...)
//
// Destinations implement one method that sends a batch and returns nil once it is durably
// acknowledged (see Destination); collector/forward/fstrm is the Frame Streams one.
// docs/fleet.md has the design, the acknowledgement contract and the failure table.
package forward
