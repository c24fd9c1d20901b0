/**
 * The functions of the wrapped install script, in POSIX sh (no bashisms: the script is
 * tested under dash and busybox ash). src/install/script.ts puts the request's settings
 * and the upstream installer in front of them and the call `mirror_install "$@"` after
 * them, so a script cut short by the network defines functions and runs nothing.
 *
 * Conventions inside the script:
 * - Its own variables start with `mirror_` and are never exported. Variables starting
 *   with K3S_ or CONTAINERD_ would be copied into the K3s service's environment file by
 *   the installer, and INSTALL_K3S_MIRROR has a meaning in a fork of the installer.
 * - It exports only what the upstream installer reads: INSTALL_K3S_VERSION,
 *   INSTALL_K3S_CHANNEL_URL, GITHUB_URL and INSTALL_K3S_ARTIFACT_URL.
 * - Every value it puts into a URL was checked against a character set first.
 * - Messages go to stdout (progress) and stderr (warnings and errors) with a `[mirror]`
 *   prefix, which sets them apart from the installer's own `[INFO]` lines.
 */
export const WRAPPER_FUNCTIONS = `mirror_info() {
    printf '[mirror] %s\\n' "$*"
}

mirror_warn() {
    printf '[mirror] WARNING: %s\\n' "$*" >&2
}

mirror_fatal() {
    printf '[mirror] ERROR: %s\\n' "$*" >&2
    exit 1
}

mirror_cleanup() {
    if [ -n "\${mirror_tmp:-}" ] && [ -d "$mirror_tmp" ]; then
        rm -rf "$mirror_tmp"
    fi
}

# Succeeds when $1 is a complete K3s version in the + spelling, such as v1.33.6+k3s1.
mirror_is_version() {
    case $1 in
    '' | *[!0-9A-Za-z.+-]*) return 1 ;;
    esac
    printf '%s\\n' "$1" | grep -Eq '^v(0|[1-9][0-9]*)[.](0|[1-9][0-9]*)[.](0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?[+]k3s[1-9][0-9]*$'
}

# Prints $1 with + written as %2B, for a query string. Callers pass validated values only.
mirror_urlencode() {
    printf '%s' "$1" | sed 's/+/%2B/g'
}

mirror_pick_downloader() {
    if command -v curl >/dev/null 2>&1; then
        mirror_downloader=curl
    elif command -v wget >/dev/null 2>&1; then
        mirror_downloader=wget
    else
        mirror_fatal "neither curl nor wget is installed; install one of them and run this script again"
    fi
    if ! command -v sha256sum >/dev/null 2>&1; then
        mirror_fatal "sha256sum is not installed; the installer needs it to check downloads, so install it (coreutils or busybox) and run this script again"
    fi
}

# Fetches $2 into the file $1, following redirects. Sets mirror_status to the final
# HTTP status (000 when no response arrived), mirror_final_url to the last URL, and
# mirror_fetch_error to the client's last message line. The status is checked by the
# callers, which is what curl -f would do, so that their messages can name it.
mirror_fetch() {
    mirror_status=000
    mirror_final_url=$2
    mirror_fetch_error=
    : >"$mirror_tmp/headers.log"
    if [ "$mirror_downloader" = curl ]; then
        mirror_fetch_out=$(curl -sS -L -D "$mirror_tmp/headers.log" -o "$1" -w '%{http_code} %{url_effective}' "$2" 2>"$mirror_tmp/fetch.log")
        mirror_status=\${mirror_fetch_out%% *}
        if [ -n "\${mirror_fetch_out#* }" ] && [ "\${mirror_fetch_out#* }" != "$mirror_fetch_out" ]; then
            mirror_final_url=\${mirror_fetch_out#* }
        fi
    else
        wget -q -S -O "$1" "$2" 2>"$mirror_tmp/fetch.log"
        mirror_status=$(sed -n 's/^ *HTTP\\/[0-9.]* \\([0-9][0-9][0-9]\\).*/\\1/p' "$mirror_tmp/fetch.log" | tail -n 1)
        mirror_location=$(sed -n 's/^ *[Ll][Oo][Cc][Aa][Tt][Ii][Oo][Nn]: *//p' "$mirror_tmp/fetch.log" | tail -n 1 | tr -d '\\r')
        if [ -n "$mirror_location" ]; then
            mirror_final_url=$mirror_location
        fi
    fi
    case $mirror_status in
    [0-9][0-9][0-9]) ;;
    *) mirror_status=000 ;;
    esac
    mirror_fetch_error=$(grep -v '^ ' "$mirror_tmp/fetch.log" | tail -n 1)
}

# Prints the value of response header $1 from the last mirror_fetch (the last one, when
# redirects brought several). curl wrote the headers to headers.log, wget -S to fetch.log.
mirror_header() {
    cat "$mirror_tmp/headers.log" "$mirror_tmp/fetch.log" | grep -i "^ *$1:" | tail -n 1 | sed 's/^[^:]*: *//' | tr -d '\\r'
}

# Prints a reply body saved by mirror_fetch, first lines only, for an error message.
mirror_reply_text() {
    if [ -s "$1" ]; then
        head -c 600 "$1" | tr '\\n' ' '
    fi
}

mirror_check_environment() {
    if [ -n "\${INSTALL_K3S_COMMIT:-}" ] || [ -n "\${INSTALL_K3S_PR:-}" ]; then
        mirror_fatal "INSTALL_K3S_COMMIT and INSTALL_K3S_PR make the installer download development builds from a fixed location that the mirror cannot serve; unset them to install a released version through the mirror, or use the upstream installer directly"
    fi
    case \${INSTALL_MIRROR_SKIP_SKEW_CHECK:-} in
    '' | true | false) ;;
    *) mirror_fatal "INSTALL_MIRROR_SKIP_SKEW_CHECK=\\"$INSTALL_MIRROR_SKIP_SKEW_CHECK\\" is invalid; set it to true or false" ;;
    esac
}

# Decides server or agent the way the installer does: a first argument that is empty or
# starts with - leaves the choice to INSTALL_K3S_EXEC, then to K3S_URL.
mirror_detect_role() {
    case \${1:-} in
    server | agent)
        mirror_role=$1
        return 0
        ;;
    '' | -*) ;;
    *)
        mirror_role=server
        return 0
        ;;
    esac
    case \${INSTALL_K3S_EXEC:-} in
    server | 'server '*) mirror_role=server ;;
    agent | 'agent '*) mirror_role=agent ;;
    *)
        if [ -n "\${K3S_URL:-}" ]; then
            mirror_role=agent
        else
            mirror_role=server
        fi
        ;;
    esac
}

# Maps ARCH or uname -m to the installer's architecture names; empty when unknown,
# in which case the installer reports the unsupported architecture itself.
mirror_detect_arch() {
    mirror_arch=\${ARCH:-$(uname -m)}
    case $mirror_arch in
    amd64 | x86_64) mirror_arch=amd64 ;;
    arm64 | aarch64) mirror_arch=arm64 ;;
    arm*) mirror_arch=arm ;;
    s390x) mirror_arch=s390x ;;
    *) mirror_arch= ;;
    esac
}

# Reads the version of the K3s binary already installed, if any.
mirror_read_current_version() {
    mirror_current=
    mirror_existing_binary="\${INSTALL_K3S_BIN_DIR:-/usr/local/bin}/k3s"
    if [ ! -x "$mirror_existing_binary" ]; then
        return 0
    fi
    mirror_current=$("$mirror_existing_binary" --version 2>/dev/null | sed -n '1s/^k3s version \\(v[^ ]*\\).*$/\\1/p')
    if mirror_is_version "$mirror_current"; then
        mirror_info "found K3s $mirror_current at $mirror_existing_binary"
    else
        mirror_warn "could not read the version of $mirror_existing_binary; the skew check treats this node as a new install"
        mirror_current=
    fi
}

# Builds the query that tells the mirror who is asking: role, cluster and current version.
mirror_caller_query() {
    mirror_query="role=$mirror_role"
    if [ -n "$mirror_cluster" ]; then
        mirror_query="$mirror_query&cluster=$mirror_cluster"
    fi
    if [ -n "$mirror_current" ]; then
        mirror_query="$mirror_query&current=$(mirror_urlencode "$mirror_current")"
    fi
}

# Resolves channel $1 through INSTALL_K3S_CHANNEL_URL into mirror_target.
mirror_resolve_channel() {
    mirror_lookup_url="$INSTALL_K3S_CHANNEL_URL/$1?$mirror_query"
    mirror_next_steps="Check the channel name, run a sync on the mirror (POST /api/v1/sync) if it has not copied a release for this channel yet, choose another channel with INSTALL_K3S_CHANNEL, or pin a version with INSTALL_K3S_VERSION."
    mirror_fetch /dev/null "$mirror_lookup_url"
    case $mirror_status in
    200) ;;
    000) mirror_fatal "channel \\"$1\\" did not resolve to a K3s version: no reply from $mirror_lookup_url ($mirror_fetch_error). Check that the mirror is reachable from this node and retry. $mirror_next_steps" ;;
    404) mirror_fatal "channel \\"$1\\" did not resolve to a K3s version: $mirror_lookup_url returned HTTP 404, so the channel is unknown or has no published version. $mirror_next_steps" ;;
    *) mirror_fatal "channel \\"$1\\" did not resolve to a K3s version: $mirror_lookup_url returned HTTP $mirror_status. $mirror_next_steps" ;;
    esac

    mirror_target=\${mirror_final_url##*/}
    mirror_target=\${mirror_target%%[?#]*}
    case $mirror_target in
    *%2[Bb]*) mirror_target=$(printf '%s' "$mirror_target" | sed 's/%2[Bb]/+/g') ;;
    esac
    if ! mirror_is_version "$mirror_target"; then
        mirror_fatal "channel \\"$1\\" did not resolve to a K3s version: $mirror_lookup_url led to $mirror_final_url, whose last path segment is not a version like v1.33.6+k3s1. $mirror_next_steps"
    fi
    mirror_info "channel $1 resolved to $mirror_target"
    mirror_hold_message=$(mirror_header X-Mirror-Skew-Message)
    if [ -n "$mirror_hold_message" ]; then
        mirror_info "the mirror's version-skew rules chose this version: $mirror_hold_message"
    fi
}

# Normalises an explicit version typed by a person ($1, named $2 in messages) into
# mirror_target through the mirror, for example 1.28.5 to the newest v1.28.5+k3sN.
mirror_resolve_explicit() {
    mirror_expected_form="write it like v1.33.6+k3s1 (also accepted: 1.33.6, v1.33.6, v1.33.6-k3s1, v1.33.6%2Bk3s1)"
    mirror_typed=$1
    case $mirror_typed in
    *%2[Bb]*) mirror_typed=$(printf '%s' "$mirror_typed" | sed 's/%2[Bb]/+/g') ;;
    esac
    case $mirror_typed in
    '' | *[!0-9A-Za-z.+-]*) mirror_fatal "$2=\\"$1\\" is not a K3s version; $mirror_expected_form" ;;
    esac
    if [ "\${#mirror_typed}" -gt 64 ]; then
        mirror_fatal "$2 is longer than 64 characters, so it is not a K3s version; $mirror_expected_form"
    fi

    mirror_resolve_url="$mirror_base/api/v1/versions/resolve?version=$(mirror_urlencode "$mirror_typed")"
    if [ -n "$mirror_arch" ]; then
        mirror_resolve_url="$mirror_resolve_url&arch=$mirror_arch"
    fi
    if [ -n "$mirror_cluster" ]; then
        mirror_resolve_url="$mirror_resolve_url&cluster=$mirror_cluster"
    fi
    mirror_fetch "$mirror_tmp/resolve.txt" "$mirror_resolve_url"
    case $mirror_status in
    200) ;;
    000) mirror_fatal "could not resolve $2=$1: no reply from $mirror_resolve_url ($mirror_fetch_error). Check that the mirror is reachable from this node and retry." ;;
    400) mirror_fatal "$2=\\"$1\\" is not a K3s version; $mirror_expected_form. The mirror replied: $(mirror_reply_text "$mirror_tmp/resolve.txt")" ;;
    404) mirror_fatal "$2=$1 is not published on this mirror\${mirror_arch:+ for $mirror_arch}. The mirror replied: $(mirror_reply_text "$mirror_tmp/resolve.txt") (details: $mirror_resolve_url)" ;;
    403) mirror_fatal "$2=$1 is refused by this mirror's policy. The mirror replied: $(mirror_reply_text "$mirror_tmp/resolve.txt") Pick another version, or ask the mirror's operator." ;;
    *) mirror_fatal "could not resolve $2=$1: $mirror_resolve_url returned HTTP $mirror_status. $(mirror_reply_text "$mirror_tmp/resolve.txt")" ;;
    esac

    mirror_target=$(head -n 1 "$mirror_tmp/resolve.txt" | tr -d '\\r')
    if ! mirror_is_version "$mirror_target"; then
        mirror_fatal "could not resolve $2=$1: $mirror_resolve_url did not return a version like v1.33.6+k3s1"
    fi
    if [ "$mirror_target" = "$mirror_typed" ]; then
        mirror_info "using $2=$mirror_target"
    else
        mirror_info "$2=$1 resolved to $mirror_target, the newest published build of that version on this mirror"
    fi
}

# Checks that the version a channel offered is published for this node's architecture,
# so that a missing file stops the install before anything is downloaded.
mirror_check_arch_published() {
    if [ -z "$mirror_arch" ]; then
        return 0
    fi
    mirror_check_url="$mirror_base/api/v1/versions/resolve?version=$(mirror_urlencode "$mirror_target")&arch=$mirror_arch"
    mirror_fetch "$mirror_tmp/check.txt" "$mirror_check_url"
    case $mirror_status in
    200) ;;
    404)
        if [ "$mirror_target" = "$mirror_current" ]; then
            mirror_fatal "the channel keeps this node at its current version $mirror_target\${mirror_hold_message:+ ($mirror_hold_message)}, and this mirror does not publish that version for $mirror_arch, so there is nothing to install. To move on, pin the next version the skew rules allow with INSTALL_K3S_VERSION. The mirror replied: $(mirror_reply_text "$mirror_tmp/check.txt")"
        fi
        mirror_fatal "$mirror_target is not published on this mirror for $mirror_arch: $(mirror_reply_text "$mirror_tmp/check.txt") Pin a version published for $mirror_arch with INSTALL_K3S_VERSION, or wait for the mirror to copy this one."
        ;;
    *) mirror_fatal "could not check that $mirror_target is published for $mirror_arch: $mirror_check_url returned HTTP $mirror_status ($mirror_fetch_error). Retry later." ;;
    esac
}

# Extracts the string field $1 from the compact JSON in file $2.
mirror_json_field() {
    sed -n "s/.*\\"$1\\":\\"\\\\([^\\"]*\\\\)\\".*/\\\\1/p" "$2" | head -n 1
}

# Asks the mirror whether moving this node from mirror_current to mirror_target keeps
# to the version-skew rules. A mirror without skew checks answers 404, and the install
# continues; any other failure stops it.
mirror_preflight() {
    mirror_override_used=false
    mirror_preflight_url="$mirror_base/api/v1/preflight?cluster=$mirror_cluster&node=$mirror_node&role=$mirror_role&current=$(mirror_urlencode "$mirror_current")&target=$(mirror_urlencode "$mirror_target")"
    mirror_skip_hint="Retry later, or set INSTALL_MIRROR_SKIP_SKEW_CHECK=true to install without the check."
    mirror_fetch "$mirror_tmp/preflight.json" "$mirror_preflight_url"
    case $mirror_status in
    200) ;;
    404)
        mirror_info "the mirror has no version-skew checks ($mirror_preflight_url returned HTTP 404); continuing without them"
        return 0
        ;;
    000) mirror_fatal "the version-skew check failed: no reply from $mirror_preflight_url ($mirror_fetch_error). $mirror_skip_hint" ;;
    *) mirror_fatal "the version-skew check failed: $mirror_preflight_url returned HTTP $mirror_status. $(mirror_reply_text "$mirror_tmp/preflight.json") $mirror_skip_hint" ;;
    esac

    if grep -q '"allowed":true' "$mirror_tmp/preflight.json"; then
        return 0
    fi
    if ! grep -q '"allowed":false' "$mirror_tmp/preflight.json"; then
        mirror_fatal "the version-skew check failed: $mirror_preflight_url returned a reply without \\"allowed\\": $(mirror_reply_text "$mirror_tmp/preflight.json") $mirror_skip_hint"
    fi

    mirror_skew_message=$(mirror_json_field message "$mirror_tmp/preflight.json")
    mirror_skew_reason=$(mirror_json_field reason "$mirror_tmp/preflight.json")
    mirror_skew_rule=$(mirror_json_field rule "$mirror_tmp/preflight.json")
    mirror_skew_ladder=$(sed -n 's/.*"ladder":\\[\\([^]]*\\)\\].*/\\1/p' "$mirror_tmp/preflight.json" | tr -d '"' | sed 's/,/ -> /g')
    if [ "\${INSTALL_MIRROR_SKIP_SKEW_CHECK:-}" = true ]; then
        mirror_override_used=true
        mirror_warn "=================================================================="
        mirror_warn "INSTALL_MIRROR_SKIP_SKEW_CHECK=true: installing $mirror_target although the skew check rejected it."
        mirror_warn "\${mirror_skew_message:-$mirror_skew_reason}"
        mirror_warn "rule: $mirror_skew_rule"
        if [ -n "$mirror_skew_ladder" ]; then
            mirror_warn "the supported path is: \${mirror_current:-this node} -> $mirror_skew_ladder"
        fi
        mirror_warn "The mirror's install report records this override."
        mirror_warn "=================================================================="
        return 0
    fi

    printf '[mirror] ERROR: the version-skew check rejected %s on this %s (%s):\\n' "$mirror_target" "$mirror_role" "\${mirror_skew_reason:-no reason given}" >&2
    printf '[mirror]   %s\\n' "\${mirror_skew_message:-no message given}" >&2
    printf '[mirror]   rule: %s\\n' "\${mirror_skew_rule:-not given}" >&2
    if [ -n "$mirror_skew_ladder" ]; then
        printf '[mirror]   upgrade one hop at a time: %s -> %s\\n' "\${mirror_current:-this node}" "$mirror_skew_ladder" >&2
        printf '[mirror]   for each hop, run this script again with INSTALL_K3S_VERSION set to that version.\\n' >&2
    fi
    printf '[mirror]   Nothing was downloaded or changed. To install anyway, set INSTALL_MIRROR_SKIP_SKEW_CHECK=true.\\n' >&2
    exit 1
}

# Prints a JSON string, or null for an empty value. Callers pass validated values only.
mirror_json_string() {
    if [ -n "$1" ]; then
        printf '"%s"' "$1"
    else
        printf 'null'
    fi
}

# Sends an install report ($1 phase, $2 outcome, $3 version after) to the mirror's
# inventory. Best effort: a failed report never fails the install.
mirror_report() {
    if [ -z "$mirror_cluster" ]; then
        return 0
    fi
    mirror_report_url="$mirror_base/api/v1/report"
    mirror_report_body="{\\"cluster\\":\\"$mirror_cluster\\",\\"node\\":\\"$mirror_node\\",\\"role\\":\\"$mirror_role\\",\\"phase\\":\\"$1\\",\\"versionBefore\\":$(mirror_json_string "$mirror_current"),\\"versionAfter\\":$(mirror_json_string "$3"),\\"outcome\\":\\"$2\\",\\"overrideUsed\\":$mirror_override_used}"
    mirror_report_status=0
    if [ "$mirror_downloader" = curl ]; then
        curl -sSf -o /dev/null --max-time 15 -X POST -H 'Content-Type: application/json' --data "$mirror_report_body" "$mirror_report_url" 2>"$mirror_tmp/report.log" || mirror_report_status=$?
    else
        # No -T: busybox 1.35's wget (Debian 12) crashes with it.
        wget -q -O /dev/null --header='Content-Type: application/json' --post-data="$mirror_report_body" "$mirror_report_url" 2>"$mirror_tmp/report.log" || mirror_report_status=$?
    fi
    if [ "$mirror_report_status" -ne 0 ]; then
        mirror_warn "could not send the $1-install report to $mirror_report_url ($(tail -n 1 "$mirror_tmp/report.log")); the install is not affected"
    fi
}

mirror_install() {
    mirror_settings
    mirror_check_environment
    mirror_pick_downloader

    mirror_tmp=$(mktemp -d 2>/dev/null) || mirror_fatal "could not create a temporary directory with mktemp -d; check that TMPDIR (or /tmp) is writable"
    trap mirror_cleanup EXIT
    trap 'mirror_cleanup; exit 130' INT
    trap 'mirror_cleanup; exit 143' TERM

    # 1. Point the upstream installer at the mirror, unless the caller chose other locations.
    # Newer installers download from INSTALL_K3S_ARTIFACT_URL when it is set and from
    # GITHUB_URL otherwise, so a caller's own GITHUB_URL keeps the artifact URL unset.
    INSTALL_K3S_CHANNEL_URL=\${INSTALL_K3S_CHANNEL_URL:-"$mirror_base/v1-release/channels"}
    export INSTALL_K3S_CHANNEL_URL
    if [ -z "\${INSTALL_K3S_ARTIFACT_URL:-}" ] && [ -z "\${GITHUB_URL:-}" ]; then
        INSTALL_K3S_ARTIFACT_URL="$mirror_base/k3s"
        export INSTALL_K3S_ARTIFACT_URL
    fi
    GITHUB_URL=\${GITHUB_URL:-"$mirror_base/k3s-io/k3s/releases"}
    export GITHUB_URL

    # 2. Find out who is installing what.
    mirror_cluster=$mirror_query_cluster
    mirror_node=$(printf '%s' "\${K3S_NODE_NAME:-$(uname -n)}" | tr -cd 'A-Za-z0-9._-' | cut -c 1-253)
    mirror_detect_role "$@"
    mirror_detect_arch
    mirror_read_current_version
    mirror_caller_query

    # 3. Resolve the target version, failing closed: never a channel name as a version.
    if [ -n "\${INSTALL_K3S_VERSION:-}" ]; then
        mirror_resolve_explicit "$INSTALL_K3S_VERSION" INSTALL_K3S_VERSION
    elif [ -n "\${INSTALL_K3S_CHANNEL:-}" ]; then
        case $INSTALL_K3S_CHANNEL in
        *[!A-Za-z0-9._+-]*) mirror_fatal "INSTALL_K3S_CHANNEL=\\"$INSTALL_K3S_CHANNEL\\" is not a channel name; use letters, digits and . _ + - only, for example stable or v1.33" ;;
        esac
        mirror_resolve_channel "$(printf '%s' "$INSTALL_K3S_CHANNEL" | sed 's/+/%2B/g')"
        mirror_check_arch_published
    elif [ -n "$mirror_query_version" ]; then
        mirror_resolve_explicit "$mirror_query_version" "?version"
    else
        mirror_resolve_channel "\${mirror_query_channel:-$mirror_default_channel}"
        mirror_check_arch_published
    fi
    INSTALL_K3S_VERSION=$mirror_target
    export INSTALL_K3S_VERSION

    # 4. Check the version-skew rules before anything is downloaded.
    mirror_preflight
    mirror_report before started ""

    # 5. Write the upstream installer and check it against the mirror's record.
    mirror_installer="$mirror_tmp/install.sh"
    mirror_write_installer >"$mirror_installer"
    mirror_installer_actual=$(sha256sum "$mirror_installer" | cut -d ' ' -f 1)
    if [ "$mirror_installer_actual" != "$mirror_installer_sha256" ]; then
        mirror_fatal "the upstream installer in this script has SHA-256 $mirror_installer_actual, but the mirror's record is $mirror_installer_sha256; the script was altered or cut short on the way. Download it again."
    fi
    if command -v rpm >/dev/null 2>&1 && [ "\${INSTALL_K3S_SKIP_SELINUX_RPM:-}" != true ]; then
        mirror_info "note: the installer's SELinux step contacts api.github.com and rpm.rancher.io directly; set INSTALL_K3S_SKIP_SELINUX_RPM=true if this node cannot reach them"
    fi

    # 6. Run it with every argument and variable unchanged, and exit with its status.
    mirror_info "running the upstream installer (SHA-256 $mirror_installer_sha256) for K3s $mirror_target from $mirror_base"
    sh "$mirror_installer" "$@"
    mirror_installer_status=$?
    if [ "$mirror_installer_status" -eq 0 ]; then
        mirror_report after succeeded "$mirror_target"
    else
        mirror_report after failed ""
        mirror_warn "the upstream installer exited with status $mirror_installer_status"
    fi
    exit "$mirror_installer_status"
}
`;
