//go:build !linux

package launch

import "os/exec"

// superviseChild is a no-op where the kernel has no parent-death signal.
func superviseChild(cmd *exec.Cmd) {}
