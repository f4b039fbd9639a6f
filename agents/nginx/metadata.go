package nginx

import "github.com/paceline/paceline/agents/ocf"

// metaData is the agent's OCF meta-data. Timeouts follow
// ocf:heartbeat:nginx's (start and stop 60s; a deep monitor 30s).
func metaData() *ocf.ResourceAgent {
	return &ocf.ResourceAgent{
		Name:    agentName,
		Version: "1.0",
		LongDesc: ocf.En(`Manages an nginx web server (or proxy), like ocf:heartbeat:nginx, built into Paceline.

start tests the configuration (nginx -T), starts nginx as a daemon with its pid file, and waits until it is ready: until status_url answers 2xx if it is set, else until the first listen address of the configuration accepts a connection. Starting a running nginx succeeds.

stop sends QUIT (graceful: requests in flight finish) and waits up to half the stop timeout, then TERM until 80% of it, then SIGKILL to the master's process group and its workers. Stopping a stopped nginx succeeds.

monitor at depth 0 checks that the master named by the pid file runs and is nginx; at depth 10 it also fetches status_url (5s timeout, no redirects, no proxy), which must answer 2xx and match status_regex if set.

reload tests the configuration, then sends HUP to the master. validate-all tests the configuration and shows nginx's errors.

The agent passes nginx -g "pid PIDFILE;" unless the configuration sets its own pid file, which must then be the one named by pidfile. The configuration must not turn daemon mode off.`),
		ShortDesc: ocf.En("nginx web server"),
		Parameters: []ocf.Parameter{
			{
				Name: paramConfigFile, Unique: 1, Required: 1,
				LongDesc:  ocf.En("The nginx configuration file (absolute path), passed as nginx -c. Missing on this node: not installed (rc 5); refused by nginx -t: not configured (rc 6)."),
				ShortDesc: ocf.En("Configuration file"),
				Content:   ocf.Content{Type: "string"},
			},
			{
				Name:      paramBinary,
				LongDesc:  ocf.En("The nginx binary (absolute path)."),
				ShortDesc: ocf.En("nginx binary"),
				Content:   ocf.Content{Type: "string", Default: defaultBinary},
			},
			{
				Name: paramPidFile, Unique: 1,
				LongDesc:  ocf.En("The master's pid file. The agent passes it to nginx as -g \"pid PIDFILE;\"; if the configuration has its own pid directive, pidfile must name the same file. Default: /run/paceline/nginx-NODE-INSTANCE.pid (NODE from the on_node meta attribute when given), in a directory the agent creates."),
				ShortDesc: ocf.En("Pid file"),
				Content:   ocf.Content{Type: "string", Default: defaultPidDir + "/nginx-NODE-INSTANCE.pid"},
			},
			{
				Name:      paramStatusURL,
				LongDesc:  ocf.En("A URL the running nginx serves, e.g. http://127.0.0.1/nginx_status (a location with stub_status, or any page). start waits until it answers 2xx; monitor at depth 10 fetches it. Required for a monitor of depth 10."),
				ShortDesc: ocf.En("Status URL"),
				Content:   ocf.Content{Type: "string"},
			},
			{
				Name:      paramStatusRegex,
				LongDesc:  ocf.En("A regular expression (Go RE2 syntax) the body of status_url must match, e.g. \"Active connections\" for stub_status. Default: any body."),
				ShortDesc: ocf.En("Status page regular expression"),
				Content:   ocf.Content{Type: "string"},
			},
			{
				Name:      paramOptions,
				LongDesc:  ocf.En("Extra nginx arguments, split on spaces (no shell, no quoting): -p PREFIX, -e ERRORLOG and -q. The agent sets -c, -g and -t itself."),
				ShortDesc: ocf.En("Extra nginx arguments"),
				Content:   ocf.Content{Type: "string"},
			},
		},
		Actions: []ocf.ActionDef{
			{Name: ocf.Start, Timeout: "60s"},
			{Name: ocf.Stop, Timeout: "60s"},
			{Name: ocf.Monitor, Timeout: "20s", Interval: "10s", Depth: "0"},
			{Name: ocf.Monitor, Timeout: "30s", Interval: "30s", Depth: "10"},
			{Name: ocf.Reload, Timeout: "40s"},
			{Name: ocf.MetaData, Timeout: "5s"},
			{Name: ocf.ValidateAll, Timeout: "30s"},
		},
	}
}
