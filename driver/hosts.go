package driver

import (
	"fmt"

	"github.com/efmpi/efmpi/collective"
)

// tagHosts is the message tag of GatherHosts, apart from the collectives' own.
const tagHosts = 1<<20 + 7

// GatherHosts collects every rank's host name on rank 0 (in rank order); the
// other ranks get nil. It runs once, before the loop.
func GatherHosts(c collective.Comm, host string) ([]string, error) {
	if c.Rank() != 0 {
		if err := c.Send([]byte(host), 0, tagHosts); err != nil {
			return nil, fmt.Errorf("send host name to rank 0: %w", err)
		}
		return nil, nil
	}
	hosts := make([]string, c.Size())
	hosts[0] = host
	for r := 1; r < c.Size(); r++ {
		var b []byte
		if err := c.Receive(&b, r, tagHosts); err != nil {
			return nil, fmt.Errorf("receive host name of rank %d: %w", r, err)
		}
		hosts[r] = string(b)
	}
	return hosts, nil
}
