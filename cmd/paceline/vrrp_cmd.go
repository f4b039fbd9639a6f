package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/paceline/paceline/agents/vrrp"
	"github.com/paceline/paceline/agents/vrrp/kaconf"
)

// defaultVRRPSocket is where a standalone `paceline vrrp` answers
// `paceline vrrp status`.
const defaultVRRPSocket = "/run/paceline/vrrp.sock"

// vrrpStatus is what the status socket returns.
type vrrpStatus struct {
	Instances []vrrp.Status `json:"instances"`
}

// newVRRPCmd runs VRRP from a keepalived.conf: a drop-in for keepalived
// on a node that runs nothing else.
func newVRRPCmd(g *globals) *cobra.Command {
	var conf, configID, statusSock, logLevel string
	var check bool
	c := &cobra.Command{
		Use:   "vrrp --config FILE [--check]",
		Short: "Run VRRP from a keepalived.conf (a drop-in for keepalived), or check one (--check, as keepalived -t)",
		Long: "Run the VRRP instances of a keepalived.conf, unchanged: global_defs, vrrp_script, vrrp_instance,\n" +
			"vrrp_sync_group and include. What Paceline does not support yet is a warning with its file and\n" +
			"line; a syntax error is an error with its file and line. With --check, print them and exit:\n" +
			"0 when the file can run (warnings allowed), as keepalived -t does.\n\n" +
			"  paceline vrrp --config /etc/keepalived/keepalived.conf\n" +
			"  paceline vrrp --config /etc/keepalived/keepalived.conf --check",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if conf == "" {
				return usagef("--config FILE is required (a keepalived.conf)")
			}
			if configID == "" {
				h, _ := os.Hostname()
				configID, _, _ = strings.Cut(h, ".")
			}
			l, err := loadKeepalived(conf, configID, g.stderr)
			if err != nil {
				return err
			}
			if check {
				fmt.Fprintf(g.stdout, "%s: configuration OK: %d VRRP instance(s)\n", conf, len(l.Instances))
				return nil
			}
			lvl := new(slog.LevelVar)
			if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
				return usagef("--log-level %q: want debug, info, warn or error", logLevel)
			}
			log := slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: lvl}))
			return runVRRP(cmd.Context(), l, statusSock, log)
		},
	}
	c.Flags().StringVarP(&conf, "config", "f", "", "the keepalived.conf to run")
	c.Flags().BoolVarP(&check, "check", "t", false, "check the configuration and exit (as keepalived -t)")
	c.Flags().StringVarP(&configID, "config-id", "i", "", "the id that selects @ID lines (keepalived's -i; default: the host name up to its first dot)")
	c.Flags().StringVar(&statusSock, "status-socket", defaultVRRPSocket, "where `paceline vrrp status` asks")
	c.Flags().StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	c.AddCommand(newVRRPStatusCmd(g))
	return c
}

// loadKeepalived reads and checks a keepalived.conf; warnings go to w as
// "warning: file:line: message".
func loadKeepalived(path, configID string, w io.Writer) (*vrrp.Loaded, error) {
	return vrrp.Load(path, configID, slog.New(slog.DiscardHandler), func(wn kaconf.Warning) { fmt.Fprintln(w, "warning:", wn) })
}

// runVRRP runs the configuration until ctx ends, with its status socket.
func runVRRP(ctx context.Context, l *vrrp.Loaded, sock string, log *slog.Logger) error {
	ln, err := listenStatus(sock)
	if err != nil {
		return err
	}
	var router atomic.Pointer[vrrp.Router]
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/vrrp/status", func(w http.ResponseWriter, _ *http.Request) {
		st := vrrpStatus{Instances: []vrrp.Status{}}
		if r := router.Load(); r != nil {
			st.Instances = r.Status()
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(st)
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		if r := router.Load(); r != nil {
			_ = r.WriteMetrics(w)
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("status socket", "err", err)
		}
	}()
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = os.Remove(sock)
	}()
	// keepalived reloads on SIGHUP (systemctl reload): here a SIGHUP must
	// not end the process (Go's default), which would leave its
	// addresses behind without a priority 0 advert.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				log.Warn("SIGHUP: reloading is not supported; the running configuration stays (restart paceline vrrp to apply a changed one)")
			}
		}
	}()
	return l.Run(ctx, vrrp.NewVIPAddresser(ctx, log), log, func(r *vrrp.Router) {
		router.Store(r)
		log.Info("VRRP started", "instances", len(l.Instances), "status-socket", sock)
	})
}

// listenStatus opens the status socket (mode 0600), refusing to take it
// from a running process.
func listenStatus(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("status socket directory: %w", err)
	}
	if c, err := net.Dial("unix", path); err == nil {
		_ = c.Close()
		return nil, fmt.Errorf("status socket %s: another paceline vrrp is running there (give --status-socket)", path)
	}
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("status socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("status socket mode: %w", err)
	}
	return ln, nil
}

func newVRRPStatusCmd(g *globals) *cobra.Command {
	var sock string
	var metrics, cluster bool
	c := &cobra.Command{
		Use:   "status",
		Short: "Show the instances of a running `paceline vrrp` (or, with --cluster, of this node's ocf:paceline:vrrp resources): state, priority and its adjustments, master, counters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cluster {
				if metrics {
					return usagef("--metrics is for a standalone paceline vrrp; a node's metrics come with the agent's")
				}
				sock = g.socket
			}
			hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
				DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, "unix", sock)
				},
			}}
			path := "/v1/vrrp/status"
			if metrics {
				path = "/metrics"
			}
			resp, err := hc.Get("http://vrrp" + path)
			if err != nil {
				return fmt.Errorf("asking paceline vrrp at %s (is it running? --status-socket): %w", sock, err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
			if err != nil {
				return fmt.Errorf("reading the status: %w", err)
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("paceline vrrp at %s: %s: %s", sock, resp.Status, strings.TrimSpace(string(body)))
			}
			if metrics || g.json() {
				_, err = g.stdout.Write(body)
				return err
			}
			var st vrrpStatus
			if err := json.Unmarshal(body, &st); err != nil {
				return fmt.Errorf("reading the status: %w", err)
			}
			printVRRPStatus(g.stdout, st.Instances)
			return nil
		},
	}
	c.Flags().StringVar(&sock, "status-socket", defaultVRRPSocket, "the socket of the running paceline vrrp")
	c.Flags().BoolVar(&metrics, "metrics", false, "print the Prometheus metrics instead")
	c.Flags().BoolVar(&cluster, "cluster", false, "ask this node's Paceline agent (--socket) about its ocf:paceline:vrrp resources")
	return c
}

func printVRRPStatus(w io.Writer, ins []vrrp.Status) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(ins) == 0 {
		fmt.Fprintln(w, "no VRRP instance runs here")
		return
	}
	fmt.Fprintln(tw, "INSTANCE\tINTERFACE\tVRID\tVERSION\tSTATE\tPRIORITY\tMASTER\tVIPS")
	for _, s := range ins {
		if s.Resource != "" {
			s.Name = s.Resource + "/" + s.Name
		}
		prio := fmt.Sprint(s.Priority)
		if s.Priority != s.BasePriority {
			prio = fmt.Sprintf("%d (base %d)", s.Priority, s.BasePriority)
		}
		master := "-"
		switch {
		case s.State == "MASTER":
			master = "this node"
		case s.Master != "":
			master = fmt.Sprintf("%s (%d)", s.Master, s.MasterPriority)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\tv%d\t%s\t%s\t%s\t%s\n", s.Name, s.Interface, s.VRID, s.Version, s.State, prio, master, strings.Join(s.VIPs, ", "))
	}
	tw.Flush()
	for _, s := range ins {
		var notes []string
		if s.Reason != "" {
			notes = append(notes, fmt.Sprintf("%s since %s: %s", s.State, s.Since.Format(time.RFC3339), s.Reason))
		}
		for _, a := range s.Adjustments {
			notes = append(notes, "priority "+a)
		}
		for _, f := range s.Faults {
			notes = append(notes, "fault: "+f)
		}
		c := s.Counters
		notes = append(notes, fmt.Sprintf("adverts sent %d, received %d; priority 0 sent %d, received %d; became master %d times",
			c.AdvertsSent, c.AdvertsReceived, c.PriorityZeroSent, c.PriorityZeroReceived, c.BecameMaster))
		if c.SendErrors+c.AddressErrors > 0 {
			notes = append(notes, fmt.Sprintf("errors: send %d, address %d", c.SendErrors, c.AddressErrors))
		}
		for _, reason := range slices.Sorted(maps.Keys(c.Dropped)) {
			notes = append(notes, fmt.Sprintf("dropped %d (%s)", c.Dropped[reason], reason))
		}
		name := s.Name
		if s.Resource != "" {
			name = s.Resource + "/" + s.Name
		}
		fmt.Fprintf(w, "\n%s:\n  %s\n", name, strings.Join(notes, "\n  "))
	}
}
