// Package inproc is efmpi's in-process transport: NewWorld returns n ranks
// that are goroutines of one process, exchanging frames of package
// collective/wire through per-pair in-memory mailboxes; NewHosted returns p
// nodes that each stand for a block of the n ranks (collective.Hoster), which
// is how the driver runs thousands of ranks on a few goroutines. Its
// collectives (all but the gather) meet in shared memory: the last node to
// arrive computes the result once and every node copies it, so a world of
// thousands of ranks costs O(n) per collective.
package inproc
