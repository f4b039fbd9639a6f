package redis

import "github.com/paceline/paceline/agents/ocf"

// metaData is the agent's OCF meta-data.
func metaData() *ocf.ResourceAgent {
	str := func(name, short, long, def string) ocf.Parameter {
		return ocf.Parameter{Name: name, ShortDesc: ocf.En(short), LongDesc: ocf.En(long), Content: ocf.Content{Type: "string", Default: def}}
	}
	port := str(paramPort, "Port", "The TCP port redis-server listens on.", "6379")
	port.Content.Type = "integer"
	return &ocf.ResourceAgent{
		Name:    agentName,
		Version: "1.0",
		LongDesc: ocf.En(`Manages a Redis server with replication, promotable, built into Paceline.

start runs redis-server with a configuration the agent generates (mode 0600, in the run directory) and waits until it answers PING. It starts as a read-only replica: of the primary when another node's attributes name one, else of a placeholder (127.0.0.1 port 0), where it waits, read-only.

promote waits until the replica has caught up with its primary as far as it can, then runs REPLICAOF NO ONE. demote pauses writes, lets the replicas acknowledge the last ones, and makes the server a replica again.

monitor answers 8 for a primary, 0 for a replica and 7 when stopped; it publishes the node attributes redis-RSC-role, redis-RSC-addr, redis-RSC-offset and the promotion score master-RSC, and makes a replica follow the primary the attributes name.

Passwords come from password_file and go only into the generated configuration and AUTH, never onto a command line.`),
		ShortDesc: ocf.En("Redis server, promotable"),
		Parameters: []ocf.Parameter{
			str(paramConfig, "Base configuration", "A redis configuration file (absolute path) included before the agent's own settings, which win: port, bind, dir, pidfile, logfile, daemonize, replica-read-only, replicaof, requirepass, masterauth, masteruser, replica-announce-ip/port.", ""),
			port,
			str(paramBind, "Listen address", "The address redis-server listens on. Given explicitly, protected-mode is turned off. Default: announce, else 0.0.0.0.", ""),
			str(paramAnnounce, "Announced address", "The address other nodes reach this instance at, published in the redis-RSC-addr attribute and as replica-announce-ip. Required in a cluster. Default: bind, if it is a specific address.", ""),
			str(paramDir, "Data directory", "The data directory (absolute path), created if missing.", defaultDataBase+"/redis-INSTANCE"),
			str(paramPasswordFile, "Password file", "A file whose first line is the password: requirepass, masterauth, and the agent's AUTH. Never on a command line.", ""),
			str(paramReplUser, "Replication user", "The ACL user replicas authenticate as (masteruser), with the password of password_file. The user must be defined in the base configuration (or an ACL file) with the replication permissions.", ""),
			str(paramBinary, "redis-server binary", "The redis-server binary (absolute path).", defaultBinary),
			str(paramRunDir, "Run directory", "Where the generated configuration, the pid file and the log go.", defaultRunBase+"/redis-NODE-INSTANCE"),
		},
		Actions: []ocf.ActionDef{
			{Name: ocf.Start, Timeout: "60s"},
			{Name: ocf.Stop, Timeout: "60s"},
			{Name: ocf.Monitor, Timeout: "20s", Interval: "10s", Depth: "0", Role: "Unpromoted"},
			{Name: ocf.Monitor, Timeout: "20s", Interval: "9s", Depth: "0", Role: "Promoted"},
			{Name: ocf.Promote, Timeout: "60s"},
			{Name: ocf.Demote, Timeout: "60s"},
			{Name: ocf.Notify, Timeout: "20s"},
			{Name: ocf.MetaData, Timeout: "5s"},
			{Name: ocf.ValidateAll, Timeout: "20s"},
		},
	}
}
