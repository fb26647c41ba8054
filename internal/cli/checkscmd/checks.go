// Package checkscmd is `merlon checks`: list the checks Merlon can run, so
// that users can pick them with --checks and --skip-checks.
package checkscmd

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/merlonsec/merlon/internal/checks"
	"github.com/merlonsec/merlon/internal/cli/cmdutil"
	"github.com/merlonsec/merlon/internal/scan"
)

// NewCmd builds the checks command.
func NewCmd(ios *cmdutil.IO) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "checks",
		Short: "List the checks Merlon runs",
		Long: `List every check with its ID, family, OWASP API Top 10 (2023) category,
CWE, most severe outcome and mode. Active checks run only with --active.
--checks and --skip-checks accept an ID, a family or a category.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			all := checks.All()
			metas := make([]scan.Meta, len(all))
			for i, c := range all {
				metas[i] = c.Meta()
			}
			if asJSON {
				enc := json.NewEncoder(ios.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(metas)
			}
			tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tFAMILY\tOWASP\tCWE\tSEVERITY\tMODE\tTITLE")
			for _, m := range metas {
				mode := "passive"
				if m.Active {
					mode = "active"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\tCWE-%d\t%s\t%s\t%s\n", m.ID, m.Family, m.Category, m.CWE, m.Severity, mode, m.Title)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the list as JSON")
	return cmd
}
