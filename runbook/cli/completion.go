package cli

import (
	"fmt"
	"sort"

	"github.com/urfave/cli/v2"
)

// The bash and zsh scripts ask tejun itself what may come next (urfave's
// --generate-bash-completion: commands, then a command's flags), so they
// follow the binary they complete; anything else completes as a file name
// (runbooks, inventories).
const bashCompletion = `# tejun completion for bash: source <(tejun completion bash)
_tejun() {
    local cur="${COMP_WORDS[COMP_CWORD]}" words
    if [[ "$cur" == -* ]]; then
        words=$("${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" --generate-bash-completion 2>/dev/null)
    else
        words=$("${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:COMP_CWORD-1}" --generate-bash-completion 2>/dev/null)
    fi
    local IFS=$'\n'
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    if [[ "$cur" != -* ]]; then
        COMPREPLY+=($(compgen -f -- "$cur"))
    fi
}
complete -o filenames -F _tejun tejun
`

const zshCompletion = `#compdef tejun
# tejun completion for zsh: tejun completion zsh > "${fpath[1]}/_tejun"
_tejun() {
    local cur=${words[CURRENT]}
    local -a opts
    if [[ "$cur" == -* ]]; then
        opts=("${(@f)$(${words[1]} ${words[2,CURRENT-1]} $cur --generate-bash-completion 2>/dev/null)}")
    else
        opts=("${(@f)$(${words[1]} ${words[2,CURRENT-1]} --generate-bash-completion 2>/dev/null)}")
    fi
    compadd -a opts
    [[ "$cur" == -* ]] || _files
}
compdef _tejun tejun
`

func (a *App) completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: "bash:  source <(tejun completion bash)    (or save it in /etc/bash_completion.d/tejun)\n" +
			"zsh:   tejun completion zsh > \"${fpath[1]}/_tejun\"\n" +
			"fish:  tejun completion fish > ~/.config/fish/completions/tejun.fish",
		BashComplete: func(c *cli.Context) {
			for _, s := range []string{"bash", "zsh", "fish"} {
				fmt.Fprintln(c.App.Writer, s)
			}
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return invalid(fmt.Errorf("name one shell: bash, zsh or fish; see tejun completion --help"))
			}
			switch c.Args().First() {
			case "bash":
				fmt.Fprint(a.stdout, bashCompletion)
			case "zsh":
				fmt.Fprint(a.stdout, zshCompletion)
			case "fish":
				s, err := c.App.ToFishCompletion()
				if err != nil {
					return err
				}
				fmt.Fprint(a.stdout, s)
			default:
				return invalid(fmt.Errorf("no completion for %q: want bash, zsh or fish", c.Args().First()))
			}
			return nil
		},
	}
}

func (a *App) manCommand() *cli.Command {
	return &cli.Command{
		Name:  "man",
		Usage: "print tejun's manual page (roff): tejun man > /usr/local/share/man/man1/tejun.1",
		Action: func(c *cli.Context) error {
			s, err := c.App.ToManWithSection(1)
			if err != nil {
				return err
			}
			fmt.Fprint(a.stdout, s)
			return nil
		},
	}
}

// completeKinds offers the kind names after tejun kinds.
func completeKinds(c *cli.Context) {
	names := registry().Names()
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintln(c.App.Writer, n)
	}
}
