package agent

import (
	"net/http"

	"github.com/paceline/paceline/agents/vrrp"
)

// getVRRPStatus answers `paceline vrrp status --cluster`: the instances
// of every ocf:paceline:vrrp resource running on this node.
func (a *Agent) getVRRPStatus(w http.ResponseWriter, _ *http.Request) {
	var out struct {
		Instances []vrrp.Status `json:"instances"`
	}
	if a.vrrp != nil {
		out.Instances = a.vrrp.StatusAll()
	}
	if out.Instances == nil {
		out.Instances = []vrrp.Status{}
	}
	writeJSON(w, http.StatusOK, out)
}
