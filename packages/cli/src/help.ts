import { renderSettingsTable } from './config';

export const usage = `Usage: tessera <command> [options]

Local cluster
  start                          run a whole cluster in the foreground (npm start); Ctrl-C stops it

Operator
  status [--json]                nodes by zone, metadata leader/term/commit, objects/bytes per bucket,
                                 repair queue
  node ls [--json]               storage nodes
  node add <id> --zone <z> --address <host:port> [--capacity-bytes <n>]
                                 register a node; also re-admits a removed one
  node drain <id> [--reason <text>]    no new shards on the node
  node undrain <id>              back to up
  node remove <id> [--force]     forget a drained node (refused while it holds shards); --force for a
                                 node whose disk is gone: its shards are rebuilt like a lost node's
  heal [--rate <bytes/s>]        healer backlog, rebuild rate and ETA; --rate sets the rebuild throttle
  heal stop | heal start         pause rebuilds / resume them and run a healing round now
  heal --watch                   live progress bar (rebuilt/total bytes, rate, ETA) until the backlog
                                 is zero; Ctrl-C stops watching (exit 130); --json: one object per poll
  scrub                          scrub progress, rate, oldest unverified shard, bad shards found
  scrub stop | scrub start       pause the scrubber / resume it and start a pass now if none runs
  scrub --watch                  live progress of the pass in progress until it finishes
                                 (heal and scrub use the healer's admin port: --healer host:port, else the
                                 plan's; stop/start only from the healer's host; --interval-ms polls, default 1000)
  config [--json]                every setting's effective value and where it came from

Metadata group (Raft members; one change at a time)
  member ls [--json]             members, voter or learner, role, term, applied index and lag
  member add <id> --address <host:port> [--learner] [--timeout-ms <ms>]
                                 add a node started with --join: as a learner, wait until it has
                                 caught up (default up to 10 min), then promote it to voter
  member remove <id> [--force]   remove a member; refused when the voters left that answer would not
                                 be a majority (--force removes anyway)

Access keys (besides root; a key owns the buckets it creates; gateways apply changes within 5 s)
  key create <name> [--no-create-bucket]   new key; prints its secret once
  key create <name> --access-key-id <id>   import an existing key, its secret in TESSERA_KEY_SECRET
  key ls [--json]                keys, the buckets each owns and its grants (never secrets)
  key rm <access-key-id> [--force]     delete; refused while it owns buckets unless --force
  key allow <access-key-id> <bucket> [--read] [--write] [--read-acp] [--write-acp] [--full-control]
                                 let the key read and/or write objects in a bucket it does not own
                                 (both when no flag is given); --read-acp / --write-acp: read /
                                 change the bucket's ACL; --full-control: all four
  key deny <access-key-id> <bucket>    remove that grant

Encryption at rest (SSE-S3: objects written with x-amz-server-side-encryption AES256 or into a
bucket with default encryption)
  encryption [status] [--json]   the master keys: the current one seals new objects, retired ones
                                 open what they sealed (key bytes are never shown)
  encryption rotate              a new current master key; gateways use it within 60 s

S3 (through the gateway, AWS SDK, path-style)
  bucket ls | bucket mb <b> | bucket rb <b>
  ls [s3://<bucket>[/<prefix>]]
  cp <file> s3://<bucket>/<key>   |   cp s3://<bucket>/<key> <file|dir|->
  rm s3://<bucket>/<key>

Roles (run one service in this process, flags passed through unchanged)
  metadata [flags] | storage [flags] | gateway [flags] | healer [flags]

Common options
  --json                         machine-readable output
  --metadata <host:port,...>     metadata addresses (TESSERA_METADATA; default from the port plan)
  --endpoint <url>               S3 endpoint (TESSERA_ENDPOINT; default http://<host>:<gateway-port>)
  credentials                    TESSERA_ROOT_ACCESS_KEY/TESSERA_ROOT_SECRET_KEY, AWS_ACCESS_KEY_ID/
                                 AWS_SECRET_ACCESS_KEY, else <data-dir>/root-keys.json

Settings: flag > environment > config file (--config, TESSERA_CONFIG, <data-dir>/tessera.json) > default
${renderSettingsTable()}
`;
