/**
 * Node flags of the agent's process. A 1 MB semi-space keeps the young generation (and so the RSS peaks) small.
 * `--jitless` runs everything in V8's interpreter: no optimising compilers, their code pages and executable memory,
 * ~10 MB less resident memory for CPU the agent does not notice (measured in docs/benchmarks.md). It also turns off
 * WebAssembly, which the agent must therefore not use (fetch/undici parse HTTP with it; the agent uses node:http).
 */
export const AGENT_NODE_FLAGS = ["--max-semi-space-size=1", "--jitless"];

export interface UnitOptions {
  /** The agent bundle (`fleetledger agent build`) the unit runs. */
  bundle: string;
  configPath: string;
  stateDir: string;
  user: string;
  /** The Node binary; defaults to the one running this command. */
  node?: string;
}

/**
 * The systemd unit. The agent runs as one pre-built JavaScript file rather than from its TypeScript sources or
 * through the tsx-based CLI, which keeps its resident memory lower. Hardening keeps the host read-only except the
 * state dir, while leaving what exporters need: /dev (ipmi, nvme, nvidia), the Docker socket, /proc and /sys, the
 * journal.
 */
export function unitFile(options: UnitOptions): string {
  const node = options.node ?? process.execPath;
  const root = options.user === "root";
  return `[Unit]
Description=Fleetledger agent (metrics, logs, inventory)
Documentation=https://github.com/fleetledger/fleetledger/blob/main/docs/agent.md
Wants=network-online.target
After=network-online.target docker.service

[Service]
Type=simple
User=${options.user}
${root ? "" : "SupplementaryGroups=systemd-journal adm docker\n"}ExecStart=${node} ${AGENT_NODE_FLAGS.join(" ")} ${options.bundle} run --config ${options.configPath}
Restart=always
RestartSec=5
StateDirectory=${options.stateDir.startsWith("/var/lib/") ? options.stateDir.slice("/var/lib/".length) : "fleetledger-agent"}
StateDirectoryMode=0700
ReadWritePaths=${options.stateDir}
UMask=0077
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
MemoryMax=256M
CPUQuota=20%

[Install]
WantedBy=multi-user.target
`;
}

export function systemctlHint(unitPath: string): string {
  const name = unitPath.split("/").pop() ?? "fleetledger-agent.service";
  return [
    `wrote ${unitPath}`,
    "enable and start it with:",
    "  systemctl daemon-reload",
    `  systemctl enable --now ${name}`,
    `  journalctl -u ${name} -f`,
  ].join("\n");
}
