package agent

import "net/http"

// registerWeb adds the web view to the observation listener.
func (a *Agent) registerWeb(mux *http.ServeMux) {}
