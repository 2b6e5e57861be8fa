package algorithms

// Participation draws the clients of each iteration for partial
// participation (EF21-PP, Fatkhullin et al. 2021, "EF21 with bells &
// whistles", where client i takes part in round t with probability p_i; here
// p_i = p for every client, independently across clients and rounds).
//
// The draw is a pure function of (seed, k, rank): a counter-based generator
// (the SplitMix64 finaliser over the three words), so every rank computes the
// same participating set for iteration k without a message, a resumed run
// draws the same sets without saving any stream state, and drawing allocates
// nothing. p ≥ 1 (or 0, meaning unset) is full participation and draws
// nothing at all, so p = 1 is EF21 bit for bit.
type Participation struct {
	P    float64
	Seed uint64
}

// participationPurpose separates the participation draws from every other
// stream of a seed (the values of package rng's purposes are 1–6).
const participationPurpose = 0x5050 // "PP"

// Full reports whether every client takes part in every iteration.
func (p Participation) Full() bool { return p.P == 0 || p.P >= 1 }

// In reports whether client r takes part in iteration k (the round that
// makes x^{k+1}, g^{k+1}).
func (p Participation) In(k, r int) bool {
	if p.Full() {
		return true
	}
	return p.uniform(k, r) < p.P
}

// uniform is U[0, 1) from (seed, k, r): 53 bits of mix(seed, purpose, k, r).
func (p Participation) uniform(k, r int) float64 {
	h := mix64(p.Seed ^ participationPurpose<<48)
	h = mix64(h ^ uint64(k))
	h = mix64(h ^ uint64(r)<<32 ^ 0x9e3779b97f4a7c15)
	return float64(h>>11) * 0x1p-53
}

// mix64 is the SplitMix64 output function (Steele, Lea, Flood 2014).
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
