#!/bin/sh
# A stand-in for the upstream K3s installer (get.k3s.io), written for this project's
# tests. It keeps to the parts of the installer's contract that involve the mirror, so a wrapped install
# that works with the stand-in exercises what the real installer does:
#
# - the same variables: INSTALL_K3S_CHANNEL_URL, INSTALL_K3S_CHANNEL, INSTALL_K3S_VERSION,
#   GITHUB_URL, INSTALL_K3S_ARTIFACT_URL, INSTALL_K3S_BIN_DIR, INSTALL_K3S_SYSTEMD_DIR,
#   INSTALL_K3S_SKIP_START, INSTALL_K3S_SYMLINK, INSTALL_K3S_SKIP_SELINUX_RPM,
#   INSTALL_K3S_EXEC, ARCH, K3S_URL, K3S_TOKEN and K3S_TOKEN_FILE;
# - the same version lookup, including its flaw: curl without -f, so a failed lookup
#   yields the channel name as the version ("Using stable as release");
# - the same download URLs, curl -sfL and wget -qO commands, and checksum grep;
# - the same choice of server or agent, and the same service files, with every K3S_*
#   and CONTAINERD_* variable copied into the service's environment file.
#
# Differences, so that tests stay inside their sandbox: the defaults of the three URL
# variables point at a closed loopback port instead of the upstream hosts, so a wrapper
# that forgot to set one fails instead of reaching the internet; the SELinux step only
# prints what it would install; and no service is started unless INSTALL_K3S_SKIP_START
# is unset, in which case systemctl (a fake one in tests) is asked to restart it.

set -e

info() {
    echo "[INFO]  $*"
}

warn() {
    echo "[WARN]  $*" >&2
}

fatal() {
    echo "[ERROR] $*" >&2
    exit 1
}

# --- choose the command, directories and service name ---
setup_env() {
    if [ -z "${INSTALL_K3S_EXEC:-}" ] || [ "${INSTALL_K3S_EXEC#-}" != "${INSTALL_K3S_EXEC}" ]; then
        if [ -z "${1:-}" ] || [ "${1#-}" != "${1}" ]; then
            if [ -n "${K3S_URL:-}" ]; then
                CMD_K3S=agent
            else
                CMD_K3S=server
            fi
        else
            CMD_K3S=$1
            shift
        fi
    else
        CMD_K3S=${INSTALL_K3S_EXEC%% *}
    fi
    CMD_K3S_ARGS="$*"

    if [ "${CMD_K3S}" = agent ]; then
        [ -n "${K3S_URL:-}" ] || fatal "K3S_URL is required for an agent install"
        if [ -z "${K3S_TOKEN:-}" ] && [ -z "${K3S_TOKEN_FILE:-}" ]; then
            fatal "an agent install needs K3S_TOKEN or K3S_TOKEN_FILE"
        fi
        SYSTEM_NAME=k3s-agent
    else
        SYSTEM_NAME=k3s
    fi

    SUDO=sudo
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=
    fi

    BIN_DIR=${INSTALL_K3S_BIN_DIR:-/usr/local/bin}
    SYSTEMD_DIR=${INSTALL_K3S_SYSTEMD_DIR:-/etc/systemd/system}
    [ -d "${BIN_DIR}" ] || fatal "INSTALL_K3S_BIN_DIR ${BIN_DIR} is not a directory"
    [ -d "${SYSTEMD_DIR}" ] || fatal "INSTALL_K3S_SYSTEMD_DIR ${SYSTEMD_DIR} is not a directory"

    CHANNEL_URL=${INSTALL_K3S_CHANNEL_URL:-http://127.0.0.1:9/v1-release/channels}
    CHANNEL=${INSTALL_K3S_CHANNEL:-stable}
    GITHUB_URL=${GITHUB_URL:-http://127.0.0.1:9/k3s-io/k3s/releases}
    ARTIFACT_URL=${INSTALL_K3S_ARTIFACT_URL:-}

    FILE_K3S_SERVICE=${SYSTEMD_DIR}/${SYSTEM_NAME}.service
    FILE_K3S_ENV=${SYSTEMD_DIR}/${SYSTEM_NAME}.service.env
}

# --- service manager: OpenRC when openrc-run exists, else systemd ---
verify_system() {
    if [ -x /sbin/openrc-run ]; then
        fatal "this stand-in writes systemd units only; /sbin/openrc-run exists on this machine"
    fi
    command -v systemctl >/dev/null 2>&1 || fatal "no systemctl and no /sbin/openrc-run: cannot find a service manager"
}

# --- architecture and binary suffix ---
setup_verify_arch() {
    if [ -z "${ARCH:-}" ]; then
        ARCH=$(uname -m)
    fi
    case ${ARCH} in
    amd64 | x86_64)
        ARCH=amd64
        SUFFIX=
        ;;
    arm64 | aarch64)
        ARCH=arm64
        SUFFIX=-arm64
        ;;
    s390x)
        ARCH=s390x
        SUFFIX=-s390x
        ;;
    arm*)
        ARCH=arm
        SUFFIX=-armhf
        ;;
    *)
        fatal "unsupported architecture ${ARCH}"
        ;;
    esac
}

verify_downloader() {
    command -v "$1" >/dev/null 2>&1 || return 1
    DOWNLOADER=$1
    return 0
}

setup_tmp() {
    TMP_DIR=$(mktemp -d -t k3s-install.XXXXXXXXXX)
    TMP_HASH=${TMP_DIR}/k3s.hash
    TMP_BIN=${TMP_DIR}/k3s.bin
    cleanup() {
        code=$?
        set +e
        trap - EXIT
        rm -rf "${TMP_DIR}"
        exit ${code}
    }
    trap cleanup INT EXIT
}

# --- version: INSTALL_K3S_VERSION, else the channel's redirect target ---
get_release_version() {
    if [ -n "${INSTALL_K3S_VERSION:-}" ]; then
        VERSION_K3S=${INSTALL_K3S_VERSION}
    else
        info "Finding release for channel ${CHANNEL}"
        version_url="${CHANNEL_URL}/${CHANNEL}"
        case ${DOWNLOADER} in
        curl)
            VERSION_K3S=$(curl -w '%{url_effective}' -L -s -S "${version_url}" -o /dev/null | sed -e 's|.*/||')
            ;;
        wget)
            VERSION_K3S=$(wget -SqO /dev/null "${version_url}" 2>&1 | grep -i Location | sed -e 's|.*/||')
            ;;
        *)
            fatal "incorrect downloader executable '${DOWNLOADER}'"
            ;;
        esac
    fi
    info "Using ${VERSION_K3S} as release"
}

# --- where release files come from ---
setup_download_base() {
    if [ -n "${ARTIFACT_URL}" ]; then
        VERSION_URLSAFE=$(echo "${VERSION_K3S}" | sed -e 's/+/%2B/g')
        DOWNLOAD_BASE=${ARTIFACT_URL}/${VERSION_URLSAFE}
    else
        DOWNLOAD_BASE=${GITHUB_URL}/download/${VERSION_K3S}
    fi
}

# --- fetch $2 into file $1 ---
download() {
    [ $# -eq 2 ] || fatal "download needs exactly two arguments"
    set +e
    case ${DOWNLOADER} in
    curl)
        curl -o "$1" -sfL "$2"
        ;;
    wget)
        wget -qO "$1" "$2"
        ;;
    *)
        fatal "incorrect executable '${DOWNLOADER}'"
        ;;
    esac
    [ $? -eq 0 ] || fatal "download failed: $2"
    set -e
}

download_hash() {
    HASH_URL=${DOWNLOAD_BASE}/sha256sum-${ARCH}.txt
    info "Downloading hash ${HASH_URL}"
    download "${TMP_HASH}" "${HASH_URL}"
    HASH_EXPECTED=$(grep " k3s${SUFFIX}$" "${TMP_HASH}")
    HASH_EXPECTED=${HASH_EXPECTED%%[[:blank:]]*}
}

installed_hash_matches() {
    if [ -x "${BIN_DIR}/k3s" ]; then
        HASH_INSTALLED=$(sha256sum "${BIN_DIR}/k3s")
        HASH_INSTALLED=${HASH_INSTALLED%%[[:blank:]]*}
        if [ "${HASH_EXPECTED}" = "${HASH_INSTALLED}" ]; then
            return 0
        fi
    fi
    return 1
}

download_binary() {
    BIN_URL=${DOWNLOAD_BASE}/k3s${SUFFIX}
    info "Downloading binary ${BIN_URL}"
    download "${TMP_BIN}" "${BIN_URL}"
}

verify_binary() {
    info "Verifying binary download"
    HASH_BIN=$(sha256sum "${TMP_BIN}")
    HASH_BIN=${HASH_BIN%%[[:blank:]]*}
    if [ "${HASH_EXPECTED}" != "${HASH_BIN}" ]; then
        fatal "Download sha256 does not match ${HASH_EXPECTED}, got ${HASH_BIN}"
    fi
}

setup_binary() {
    chmod 755 "${TMP_BIN}"
    info "Installing k3s to ${BIN_DIR}/k3s"
    $SUDO chown root:root "${TMP_BIN}"
    $SUDO mv -f "${TMP_BIN}" "${BIN_DIR}/k3s"
}

setup_selinux() {
    if [ "${INSTALL_K3S_SKIP_SELINUX_RPM:-}" = true ]; then
        info "Skipping installation of SELinux RPM"
        return
    fi
    warn "would install the k3s-selinux RPM here; set INSTALL_K3S_SKIP_SELINUX_RPM=true to skip it"
}

download_and_verify() {
    setup_verify_arch
    verify_downloader curl || verify_downloader wget || fatal "cannot find curl or wget to download files"
    setup_tmp
    get_release_version
    setup_download_base
    download_hash
    if installed_hash_matches; then
        info "Skipping binary download, installed k3s matches hash"
        return
    fi
    download_binary
    verify_binary
    setup_binary
}

create_symlinks() {
    if [ "${INSTALL_K3S_SYMLINK:-}" = skip ]; then
        return
    fi
    for cmd in kubectl crictl ctr; do
        if [ ! -e "${BIN_DIR}/${cmd}" ] || [ "${INSTALL_K3S_SYMLINK:-}" = force ]; then
            info "Creating ${BIN_DIR}/${cmd} symlink to k3s"
            $SUDO ln -sf k3s "${BIN_DIR}/${cmd}"
        fi
    done
}

create_uninstall() {
    info "Creating uninstall script ${BIN_DIR}/${SYSTEM_NAME}-uninstall.sh"
    $SUDO tee "${BIN_DIR}/${SYSTEM_NAME}-uninstall.sh" >/dev/null <<EOF
#!/bin/sh
rm -f "${FILE_K3S_SERVICE}" "${FILE_K3S_ENV}" "${BIN_DIR}/k3s" "${BIN_DIR}/${SYSTEM_NAME}-uninstall.sh"
EOF
    $SUDO chmod 755 "${BIN_DIR}/${SYSTEM_NAME}-uninstall.sh"
}

# --- the service's environment file: every K3S_*, CONTAINERD_* and proxy variable ---
create_env_file() {
    info "env: Creating environment file ${FILE_K3S_ENV}"
    $SUDO touch "${FILE_K3S_ENV}"
    $SUDO chmod 0600 "${FILE_K3S_ENV}"
    env | grep -E '^(K3S|CONTAINERD)_' | $SUDO tee "${FILE_K3S_ENV}" >/dev/null
    env | grep -Ei '^(NO|HTTP|HTTPS)_PROXY' | $SUDO tee -a "${FILE_K3S_ENV}" >/dev/null
}

create_systemd_service_file() {
    info "systemd: Creating service file ${FILE_K3S_SERVICE}"
    $SUDO tee "${FILE_K3S_SERVICE}" >/dev/null <<EOF
[Unit]
Description=Lightweight Kubernetes
After=network-online.target

[Service]
Type=notify
EnvironmentFile=-${FILE_K3S_ENV}
ExecStart=${BIN_DIR}/k3s ${CMD_K3S} ${CMD_K3S_ARGS}
Restart=always

[Install]
WantedBy=multi-user.target
EOF
}

service_enable_and_start() {
    info "systemd: Enabling ${SYSTEM_NAME} unit"
    $SUDO systemctl enable "${FILE_K3S_SERVICE}" >/dev/null
    $SUDO systemctl daemon-reload >/dev/null
    if [ "${INSTALL_K3S_SKIP_START:-}" = true ]; then
        return
    fi
    info "systemd: Starting ${SYSTEM_NAME}"
    $SUDO systemctl restart "${SYSTEM_NAME}"
}

{
    verify_system
    setup_env "$@"
    download_and_verify
    setup_selinux
    create_symlinks
    create_uninstall
    create_env_file
    create_systemd_service_file
    service_enable_and_start
}
