//go:build linux

package launch

import (
	"os/exec"
	"syscall"
)

// superviseChild asks the kernel to send the child SIGTERM when the spawner
// dies (PR_SET_PDEATHSIG), however it dies (kill -9 included): the ranks then
// stop as after any SIGTERM (checkpoint, status interrupted) instead of
// computing unsupervised to the end.
func superviseChild(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
}
