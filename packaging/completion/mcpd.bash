# bash completion for mcpd(1): subcommands, their options, and values where they are known
# (files for --tools/--config, report formats, clients, environment variable names).
# Installed as /usr/share/bash-completion/completions/mcpd.

_mcpd_words() {
  local IFS=$'\n'
  COMPREPLY=($(compgen -W "$1" -- "$2"))
}

_mcpd_files() {
  local IFS=$'\n'
  COMPREPLY=($(compgen -f -- "$1"))
  compopt -o filenames 2>/dev/null
}

_mcpd_json_or_dirs() {
  local IFS=$'\n'
  COMPREPLY=($(compgen -d -- "$1") $(compgen -f -X '!*.json' -- "$1"))
  compopt -o filenames 2>/dev/null
}

_mcpd() {
  local cur prev
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD - 1]}

  # The command path: the words before the cursor that are not options or option values.
  local cmd="" sub="" i word
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    case $word in
      -*) continue ;;
    esac
    case ${COMP_WORDS[i - 1]} in
      --tools | --config | --database | --listen | --allow-origin | --format | \
        --max-description | --user | --name | --expires-days | --expires-at | --reason | \
        --client | --url | --token-env)
        continue ;;
    esac
    if [[ -z $cmd ]]; then
      cmd=$word
    elif [[ -z $sub && ($cmd == token || $cmd == user || $cmd == config) ]]; then
      sub=$word
    fi
  done

  # Values of options.
  case $prev in
    --config) _mcpd_json_or_dirs "$cur"; return ;;
    --tools)
      if [[ $cmd == token ]]; then return; fi  # token create --tools a,b,c: tool names
      _mcpd_json_or_dirs "$cur"; return ;;
    --format) _mcpd_words "text"$'\n'"json"$'\n'"sarif" "$cur"; return ;;
    --client) _mcpd_words "claude-desktop" "$cur"; return ;;
    --token-env)
      local IFS=$'\n'
      COMPREPLY=($(compgen -v -- "$cur"))
      return ;;
    --database) _mcpd_words "sqlite://"$'\n'"postgresql://" "$cur"; compopt -o nospace 2>/dev/null; return ;;
    --listen) _mcpd_words "127.0.0.1:8001"$'\n'"0.0.0.0:8001"$'\n'"[::1]:8001" "$cur"; return ;;
    --url | --allow-origin | --user | --name | --expires-days | --expires-at | --reason | \
      --max-description | --max-connections | --io-threads) return ;;
  esac

  local opts=""
  case $cmd in
    "")
      _mcpd_words "serve"$'\n'"token"$'\n'"user"$'\n'"check-tools"$'\n'"client-config"$'\n'"config"$'\n'"version"$'\n'"--help" "$cur"
      return ;;
    serve)
      opts="--stdio --http --tools --config --database --listen --no-auth --stateless --allow-origin --max-connections --io-threads --help" ;;
    check-tools)
      if [[ $cur != -* ]]; then _mcpd_json_or_dirs "$cur"; return; fi
      opts="--format --max-description --warnings-as-errors --config --help" ;;
    client-config)
      opts="--client --stdio --url --token-env --name --tools --config --database --help" ;;
    version) opts="--help" ;;
    config)
      case $sub in
        "") _mcpd_words "show"$'\n'"--help" "$cur"; return ;;
        show) opts="--config --database --tools --json --help" ;;
      esac ;;
    token)
      case $sub in
        "") _mcpd_words "create"$'\n'"list"$'\n'"revoke"$'\n'"revoke-jti"$'\n'"--help" "$cur"; return ;;
        create) opts="--user --name --tools --expires-days --json" ;;
        list) opts="--user --all --json" ;;
        revoke) opts="--json" ;;
        revoke-jti) opts="--expires-at --reason --json" ;;
      esac
      opts="$opts --database --config --help" ;;
    user)
      case $sub in
        "") _mcpd_words "add"$'\n'"list"$'\n'"disable"$'\n'"enable"$'\n'"--help" "$cur"; return ;;
        add) opts="--name --json" ;;
        list | disable | enable) opts="--json" ;;
      esac
      opts="$opts --database --config --help" ;;
    *) return ;;
  esac
  local IFS=$' \t\n'
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}

complete -F _mcpd mcpd
