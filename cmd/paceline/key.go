package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paceline/paceline/api"
)

// newKeyCmd is `paceline key`: the gossip encryption keyring of every
// alive member, rotated as Consul's keyring is: install the new key
// everywhere, use it, then remove the old one.
func newKeyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "key", Short: "Manage the gossip encryption keyring on every alive member"}
	action := func(name, short string, needKey bool) *cobra.Command {
		use := name
		args := cobra.NoArgs
		if needKey {
			use, args = name+" KEY", cobra.ExactArgs(1)
		}
		return &cobra.Command{Use: use, Short: short, Args: args, RunE: func(cmd *cobra.Command, args []string) error {
			key := ""
			if needKey {
				key = args[0]
				if b, err := base64.StdEncoding.DecodeString(key); err != nil || (len(b) != 16 && len(b) != 24 && len(b) != 32) {
					return usagef("key %q: want base64 of a 16, 24 or 32-byte key (paceline key generate makes one)", key)
				}
			}
			res, err := g.client().Keyring(cmd.Context(), name, key)
			if err != nil {
				return agentError(err)
			}
			return printKeyring(g, res)
		}}
	}
	gen := &cobra.Command{Use: "generate", Short: "Print a fresh random 32-byte key", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k := make([]byte, 32)
			if _, err := rand.Read(k); err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, base64.StdEncoding.EncodeToString(k))
			return nil
		}}
	cmd.AddCommand(
		action("list", "List the keys each alive member holds", false),
		action("install", "Install a key on every alive member (accepted, not yet sent with)", true),
		action("use", "Make an installed key the one every member sends with", true),
		action("remove", "Remove a key that is no longer primary from every member", true),
		gen,
	)
	return cmd
}

func printKeyring(g *globals, res []api.KeyringResult) error {
	var failed []string
	for _, r := range res {
		if r.Error != "" {
			failed = append(failed, r.Node+": "+r.Error)
		}
	}
	if g.json() {
		if err := printJSON(g.stdout, res); err != nil {
			return err
		}
	} else {
		count, primary := map[string]int{}, map[string]int{}
		var keys []string
		for _, r := range res {
			for _, k := range r.Keys {
				if count[k] == 0 {
					keys = append(keys, k)
				}
				count[k]++
			}
			if r.Primary != "" {
				primary[r.Primary]++
			}
		}
		slices.Sort(keys)
		fmt.Fprintf(g.stdout, "%d member(s) answered\n", len(res))
		for _, k := range keys {
			p := ""
			if primary[k] > 0 {
				p = fmt.Sprintf(", primary on %d", primary[k])
			}
			fmt.Fprintf(g.stdout, "  %s  [%d/%d%s]\n", k, count[k], len(res), p)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("keyring failed on %d member(s):\n%s", len(failed), strings.Join(failed, "\n"))
	}
	return nil
}
