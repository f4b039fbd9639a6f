// Command ocfmain runs the vip agent as an OCF executable
// (`ocfmain start` with OCF_RESKEY_* in the environment), so that tests
// can drive it with ocf-tester without depending on cmd/paceline.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/paceline/paceline/agents/ocf"
	"github.com/paceline/paceline/agents/vip"
)

func main() {
	// Pacemaker ends a timed-out action with SIGTERM: cancel the action.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	rc := ocf.Main(ctx, vip.New(), os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	os.Exit(rc)
}
