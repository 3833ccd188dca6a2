package collector

// retentionPlan is what retention decides for one directory.
type retentionPlan struct {
	remove []ClosedFile // oldest first
	// evict are files not shipped yet (see Spool) that the size limit deletes too, after
	// every shipped file: the spool is told before each is deleted.
	evict []ClosedFile
	// overBy is how far the files kept still exceed keepBytes (0 when they do not): only the
	// newest file, which retention never deletes, is left then.
	overBy int64
}

// planRetention chooses which of files (closed files of the template, oldest first, as
// Template.ClosedFiles lists them, without the files closed after newest) to delete so that at
// most keepFiles files (0: any number) and keepBytes bytes (0: any size) remain. It deletes
// the oldest first, and never newest, the file just closed (or compressed), even when it alone
// exceeds keepBytes. Should newest not be listed (removed meanwhile), the newest listed file
// is kept instead.
func planRetention(files []ClosedFile, newest string, keepFiles int, keepBytes int64) retentionPlan {
	return planRetentionShipped(files, newest, keepFiles, keepBytes, nil)
}

// planRetentionShipped is planRetention that keeps the files unshipped reports (nil: none):
// past keepFiles they stay; past keepBytes they are deleted (evict) only once every other
// file that may go is gone, oldest first, because the size limit protects the disk.
func planRetentionShipped(files []ClosedFile, newest string, keepFiles int, keepBytes int64, unshipped func(string) bool) retentionPlan {
	keep := len(files) - 1 // the index of the file never deleted
	var total int64
	for i, f := range files {
		total += f.Size
		if f.Path == newest {
			keep = i
		}
	}
	count := len(files)
	over := func() bool {
		return (keepFiles > 0 && count > keepFiles) || (keepBytes > 0 && total > keepBytes)
	}
	var plan retentionPlan
	var held []ClosedFile
	for i, f := range files {
		if !over() {
			break
		}
		if i == keep {
			continue
		}
		if unshipped != nil && unshipped(f.Path) {
			held = append(held, f)
			continue
		}
		plan.remove = append(plan.remove, f)
		count--
		total -= f.Size
	}
	for _, f := range held {
		if keepBytes == 0 || total <= keepBytes {
			break
		}
		plan.evict = append(plan.evict, f)
		count--
		total -= f.Size
	}
	if keepBytes > 0 && total > keepBytes {
		plan.overBy = total - keepBytes
	}
	return plan
}
