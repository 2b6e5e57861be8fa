package datasets_test

import (
	"fmt"
	"strings"

	"github.com/efmpi/efmpi/datasets"
)

func ExampleParseLIBSVM() {
	const in = "2 1:0.5 3:-1\n4 2:1 # comment\n2 3:0\n"
	ds, err := datasets.ParseLIBSVM(strings.NewReader(in), "example", datasets.ReadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ds.Rows(), ds.Cols(), ds.Labels, ds.Sparse.RowPtr, ds.Sparse.ColIdx, ds.Sparse.Val)

	_, err = datasets.ParseLIBSVM(strings.NewReader("1 1:1\n-1 2:x\n"), "bad", datasets.ReadOptions{})
	fmt.Println(err)
	// Output:
	// 3 3 [-1 1 -1] [0 2 3 3] [0 2 1] [0.5 -1 1]
	// libsvm bad line 2: malformed value "x"
}

func ExampleShardBounds() {
	for r := range 3 {
		fmt.Println(datasets.ShardBounds(10, 3, r))
	}
	// Output:
	// 0 3
	// 3 6
	// 6 10
}
