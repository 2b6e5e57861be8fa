// Package tcp is efmpi's TCP transport: one rank per process (or per
// goroutine in tests), connected in a star around rank 0 and carrying the
// frames of package collective/wire. Connections are authenticated in both
// directions by an HMAC-SHA256 challenge–response over a per-job shared
// secret (see handshake.go); heartbeats and deadlines report a dead or
// silent peer as a *collective.RankLostError within the configured timeout,
// and a goodbye frame tells a normal end from a loss. Its collectives are a
// collective.Star over its connections.
package tcp
