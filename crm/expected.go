package crm

import (
	"github.com/paceline/paceline/crm/scheduler"
	"github.com/paceline/paceline/lrm"
)

// Expected reports whether r is the result action a should give, as
// Execute judges it: success, or for a probe also "not running" and "not
// installed" (and "running", which makes the DC plan again). Metrics
// count a dispatched action's result with it.
func Expected(a scheduler.Action, r lrm.Result) bool {
	ok, _ := expected(a, r)
	return ok
}
