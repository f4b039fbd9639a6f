// Command schedbench writes the inputs the scheduler's benchmark
// (BenchmarkSchedule in crm/scheduler) measures, as YAML files that
// `paceline simulate` reads: DIR/config.yaml (a generated configuration)
// and DIR/status.yaml (a cold start, or a steady cluster whose busiest node
// has gone offline). The same flags give the same files. With -cib it
// also writes DIR/cib.xml, the same input as a Pacemaker CIB (see
// cibxml.go), for Pacemaker's crm_simulate.
//
//	go run ./tools/schedbench -nodes 16 -resources 1000 -constraints 1000 -situation nodefail -cib -out /tmp/sb
//	paceline simulate --config /tmp/sb/config.yaml --status /tmp/sb/status.yaml --now 2026-01-01T12:00:00Z
//	crm_simulate -x /tmp/sb/cib.xml -R   # -S also simulates running the transition
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/paceline/paceline/cib"
	"github.com/paceline/paceline/crm/scheduler"
	"github.com/paceline/paceline/crm/scheduler/schedgen"
)

func main() {
	nodes := flag.Int("nodes", 3, "nodes")
	resources := flag.Int("resources", 100, "primitives")
	constraints := flag.Int("constraints", 100, "constraints (locations, colocations, orders)")
	seed := flag.Int64("seed", 1, "generator seed (the benchmark uses 1)")
	situation := flag.String("situation", schedgen.Cold, "cold (nothing probed) or nodefail (steady, then the busiest node offline)")
	out := flag.String("out", "", "directory to write config.yaml and status.yaml to (created if missing)")
	withCIB := flag.Bool("cib", false, "also write DIR/cib.xml: the same input as a Pacemaker CIB, for crm_simulate")
	flag.Parse()
	if err := run(*nodes, *resources, *constraints, *seed, *situation, *out, *withCIB); err != nil {
		fmt.Fprintln(os.Stderr, "schedbench:", err)
		os.Exit(1)
	}
}

func run(nodes, resources, constraints int, seed int64, situation, out string, withCIB bool) error {
	switch {
	case out == "":
		return errors.New("-out DIR is required")
	case nodes < 1 || resources < 0 || constraints < 0:
		return errors.New("want -nodes ≥ 1, -resources ≥ 0, -constraints ≥ 0")
	}
	cfg := schedgen.Cluster(nodes, resources, constraints, seed)
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("generated configuration does not validate: %w", err)
	}
	start := time.Now()
	st, err := schedgen.Status(cfg, situation)
	if err != nil {
		return err
	}
	setup := time.Since(start)
	cb, err := cib.EncodeYAML(cfg)
	if err != nil {
		return err
	}
	sb, err := yaml.Marshal(st)
	if err != nil {
		return err
	}
	// Read both back as `paceline simulate` does, so a file this writes is
	// one it accepts.
	back, err := cib.DecodeYAML(cb)
	if err != nil {
		return fmt.Errorf("config.yaml does not read back: %w", err)
	}
	stBack, err := scheduler.DecodeStatusYAML(sb)
	if err != nil {
		return fmt.Errorf("status.yaml does not read back: %w", err)
	}
	if err := stBack.Validate(back); err != nil {
		return fmt.Errorf("status.yaml does not validate: %w", err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	cfgPath, stPath := filepath.Join(out, "config.yaml"), filepath.Join(out, "status.yaml")
	if err := os.WriteFile(cfgPath, cb, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(stPath, sb, 0o644); err != nil {
		return err
	}
	var cibPath string
	if withCIB {
		// From what was read back, so that crm_simulate gets what
		// `paceline simulate` reads.
		xb, err := pacemakerCIB(back, stBack, schedgen.Now)
		if err != nil {
			return err
		}
		cibPath = filepath.Join(out, "cib.xml")
		if err := os.WriteFile(cibPath, xb, 0o644); err != nil {
			return fmt.Errorf("writing the Pacemaker CIB: %w", err)
		}
	}
	fmt.Printf("wrote %s (%d nodes, %d primitives, %d groups, %d clones, %d constraints) and %s (%s",
		cfgPath, len(cfg.Nodes), len(cfg.Primitives), len(cfg.Groups), len(cfg.Clones),
		len(cfg.Constraints.Location)+len(cfg.Constraints.Colocation)+len(cfg.Constraints.Order), stPath, situation)
	if situation == schedgen.NodeFail {
		for _, n := range st.Nodes {
			if n.State == scheduler.NodeOffline {
				fmt.Printf(": %s offline, it ran %d resources; the cold start took %s to schedule", n.Name, len(n.Resources), setup.Round(time.Millisecond))
			}
		}
	}
	fmt.Printf("; now %s)", schedgen.Now.Format(time.RFC3339))
	if cibPath != "" {
		fmt.Printf(" and %s", cibPath)
	}
	fmt.Println()
	return nil
}
