package agent

import "net/http"

// registerMetrics adds /metrics to the observation listener.
func (a *Agent) registerMetrics(mux *http.ServeMux) {}
