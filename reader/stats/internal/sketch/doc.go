// Package sketch holds the bounded-memory summaries behind dnstap-reader stats: a
// space-saving heavy-hitters table (TopK), a log-bucket quantile sketch with a relative
// error bound (Quantile) and a Bloom filter for "seen before" tests (Bloom).
//
// Each has an exact mode for users who have the memory:
//
//	top := sketch.NewTopK[struct{}](4096) // 0 means exact (never evicts)
//	top.Add([]byte("www.example.org."), 1)
//	for _, e := range top.Top(10) {
//		fmt.Println(e.Key, e.Count, e.Err) // true count is in [Count-Err, Count]
//	}
package sketch
