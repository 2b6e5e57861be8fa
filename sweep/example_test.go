package sweep_test

import (
	"fmt"

	"github.com/efmpi/efmpi/sweep"
)

// Grid points come in nested-loop order: the first axis varies slowest.
func ExampleExpand() {
	g0, _ := sweep.ParseAxis("stepsize.gamma0=0.1,1")
	n, _ := sweep.ParseAxis("run.ranks=1,4,8")
	points, _ := sweep.Expand([]sweep.Axis{g0, n})
	for _, p := range points {
		fmt.Println(p.Index, p.Overrides())
	}
	// Output:
	// 0 [stepsize.gamma0=0.1 run.ranks=1]
	// 1 [stepsize.gamma0=0.1 run.ranks=4]
	// 2 [stepsize.gamma0=0.1 run.ranks=8]
	// 3 [stepsize.gamma0=1 run.ranks=1]
	// 4 [stepsize.gamma0=1 run.ranks=4]
	// 5 [stepsize.gamma0=1 run.ranks=8]
}

// The K grid of the paper: multiples of 500 up to 20 000.
func ExampleParseKSearch() {
	ks, _ := sweep.ParseKSearch("run.iterations=500:500:20000")
	fmt.Println(ks.Key, ks.Start, ks.Step, ks.Max)
	// Output: run.iterations 500 500 20000
}
