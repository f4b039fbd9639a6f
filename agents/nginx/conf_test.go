package nginx

import (
	"reflect"
	"strings"
	"testing"

	"github.com/paceline/paceline/agents/ocf"
)

// A dump as Debian's nginx -T prints it: the main file, a module file
// included at the top, and a site included in http.
const debianDump = `# configuration file /etc/nginx/nginx.conf:
user www-data;
worker_processes auto;
pid /run/nginx.pid;   # Debian's own
include /etc/nginx/modules-enabled/*.conf;
events { worker_connections 768; }
http {
	map $http_upgrade $connection_upgrade { default upgrade; '' close; pid x; }
	log_format main '$remote_addr "$request" ${status}x';
	include /etc/nginx/sites-enabled/*;
}
stream {
	server { listen 53 udp; proxy_pass 127.0.0.1:5353; }
	server { listen 127.0.0.1:6379; proxy_pass backend; }
}

# configuration file /etc/nginx/modules-enabled/50-mod-http-echo.conf:
load_module modules/ngx_http_echo_module.so;

# configuration file /etc/nginx/sites-enabled/default:
server {
	listen 80 default_server;
	listen [::]:80 default_server;
	location / { return 200 "a \"quoted\" { brace"; }
}

`

func TestParseDump(t *testing.T) {
	info, err := parseDump(debianDump)
	if err != nil {
		t.Fatal(err)
	}
	want := &dumpInfo{Pid: "/run/nginx.pid", Listen: []string{"127.0.0.1:6379", "80", "[::]:80"}}
	if !reflect.DeepEqual(info, want) {
		t.Errorf("got %+v, want %+v", info, want)
	}
	info, err = parseDump("# configuration file /x.conf:\ndaemon off;\nhttp { server { listen unix:/run/x.sock; } }\n")
	if err != nil || !info.DaemonOff || info.Pid != "" || !reflect.DeepEqual(info.Listen, []string{"unix:/run/x.sock"}) {
		t.Errorf("got %+v, %v", info, err)
	}
	if _, err := parseDump("nothing here"); err == nil {
		t.Errorf("a dump without files parsed")
	}
}

func TestParseStatements(t *testing.T) {
	stmts, err := parseStatements("f", "a 1;\n# c { ;\nb \"x y\" 'z;' {\n  c $v${w}q;\n  d { e; }\n}\n")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range stmts {
		got = append(got, strings.Join(append([]string{s.Name}, s.Args...), "|")+"@"+s.Parent+"/"+string(rune('0'+s.Depth))+":"+string(rune('0'+s.Line)))
	}
	want := []string{"a|1@/0:1", "b|x y|z;@/0:3", "c|$v${w}q@b/1:4", "d@b/1:5", "e@d/2:5"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	for _, bad := range []string{"a \"x;", "}", "a {", "a", "a { b }", "a ${x;"} {
		if _, err := parseStatements("f", bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestDialTarget(t *testing.T) {
	for in, want := range map[string]string{
		"80":               "tcp 127.0.0.1:80",
		"*:8080":           "tcp 127.0.0.1:8080",
		"0.0.0.0:81":       "tcp 127.0.0.1:81",
		"127.0.0.2:82":     "tcp 127.0.0.2:82",
		"192.0.2.10":       "tcp 192.0.2.10:80",
		"[::]:80":          "tcp [::1]:80",
		"[2001:db8::1]":    "tcp [2001:db8::1]:80",
		"localhost:8000":   "tcp localhost:8000",
		"unix:/run/a.sock": "unix /run/a.sock",
	} {
		n, a := dialTarget(in)
		if n+" "+a != want {
			t.Errorf("dialTarget(%q) = %s %s, want %s", in, n, a, want)
		}
	}
}

func TestParseOptions(t *testing.T) {
	for _, ok := range []string{"", "-q", "-p /srv/nginx", "-p/srv -e /var/log/e.log", "-qp /srv", "  -q   -e stderr "} {
		if _, err := parseOptions(ok); err != nil {
			t.Errorf("options %q: %v", ok, err)
		}
	}
	for _, bad := range []string{"-c /x", "-g daemon", "-s stop", "-t", "-T", "-qt", "-v", "-p", "stop", "-x"} {
		if _, err := parseOptions(bad); err == nil {
			t.Errorf("options %q accepted", bad)
		}
	}
}

func TestParseConfig(t *testing.T) {
	a := &ocf.Action{Instance: "web:1", Meta: map[string]string{"on_node": "n/2"}, Params: map[string]string{"configfile": "/etc/nginx/nginx.conf"}}
	c, err := parseConfig(a, "/run/paceline")
	if err != nil {
		t.Fatal(err)
	}
	if c.Binary != "/usr/sbin/nginx" || c.PidFile != "/run/paceline/nginx-n_2-web_1.pid" || c.PidFileSet {
		t.Errorf("defaults: %+v", c)
	}
	a.Params = map[string]string{
		"configfile": "etc/nginx.conf", "binary": "nginx", "pidfile": `/run/"x".pid`,
		"status_url": "localhost/x", "status_regex": "(", "options": "-g x",
	}
	_, err = parseConfig(a, "/run/paceline")
	if err == nil {
		t.Fatal("bad parameters accepted")
	}
	for _, p := range []string{"configfile=", "binary=", "pidfile=", "status_url=", "status_regex=", "options="} {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not name %s", err, p)
		}
	}
}
