// Package inproc is efmpi's in-process transport: NewWorld returns n ranks
// that are goroutines of one process, exchanging frames of package
// collective/wire through per-pair in-memory mailboxes. Its collectives
// (all but the gather) meet in shared memory: the last rank to arrive
// computes the result once and every rank copies it, so a world of
// thousands of ranks costs O(n) per collective.
package inproc
