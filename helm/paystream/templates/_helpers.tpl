{{/*
Helpers shared by every template. Per-worker helpers take a dict:
  root  – the top-level context ($)
  name  – the worker name (payments, ledger, notifications, audit)
  w     – the worker's values block (index $.Values name)
*/}}

{{/*
The worker names, in a fixed order, as a JSON list. A new worker is added here and as a values
block of the same name.
*/}}
{{- define "paystream.workerNames" -}}
["payments","ledger","notifications","audit"]
{{- end }}

{{/* Chart name, overridable with nameOverride. Truncated to 63 chars (DNS label). */}}
{{- define "paystream.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Release-qualified name prefix. When the release name already contains the chart name it is used
as is, so `helm install paystream` yields `paystream-payments`, not `paystream-paystream-payments`.
Truncated to 50 chars so that `-<worker>` suffixes still fit a 63-char DNS label.
*/}}
{{- define "paystream.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of one worker's resources: <fullname>-<worker>. */}}
{{- define "paystream.workerFullname" -}}
{{- printf "%s-%s" (include "paystream.fullname" .root) .name }}
{{- end }}

{{/* chart label value: name-version with `+` made label-safe. */}}
{{- define "paystream.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every resource. Takes the root context. */}}
{{- define "paystream.labels" -}}
helm.sh/chart: {{ include "paystream.chart" . }}
app.kubernetes.io/name: {{ include "paystream.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: paystream
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one worker's pods (immutable once deployed: keep them minimal). */}}
{{- define "paystream.selectorLabels" -}}
app.kubernetes.io/name: {{ include "paystream.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{/* Labels of one worker's resources: the common labels plus the component. */}}
{{- define "paystream.workerLabels" -}}
{{ include "paystream.labels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{/* Namespace of every namespaced resource: the release namespace. */}}
{{- define "paystream.namespace" -}}
{{- .Release.Namespace }}
{{- end }}

{{/*
Image reference of one worker (takes the per-worker dict). A worker with its own
`image.repository` uses only its own tag/digest (a digest belongs to one repository); otherwise
the shared `image` block applies, with the worker's tag/digest overriding it. Renders
repository@digest when a digest is set, else repository:tag (tag defaults to appVersion).
*/}}
{{- define "paystream.image" -}}
{{- $img := .root.Values.image }}
{{- $own := default (dict) .w.image }}
{{- $repo := $img.repository }}
{{- $digest := default $img.digest $own.digest }}
{{- $tag := default (default .root.Chart.AppVersion $img.tag) $own.tag }}
{{- if $own.repository }}
{{- $repo = $own.repository }}
{{- $digest = $own.digest }}
{{- $tag = default .root.Chart.AppVersion $own.tag }}
{{- end }}
{{- if $digest }}
{{- printf "%s@%s" $repo $digest }}
{{- else }}
{{- printf "%s:%s" $repo $tag }}
{{- end }}
{{- end }}

{{/* The worker's effective runtime settings: the shared block overridden by the worker's. */}}
{{- define "paystream.runtime" -}}
{{- $rt := mergeOverwrite (deepCopy .root.Values.runtime) (deepCopy (default (dict) .w.runtime)) }}
{{- toJson $rt }}
{{- end }}

{{/* true when the Kafka security protocol authenticates with SASL. */}}
{{- define "paystream.kafka.sasl" -}}
{{- if hasPrefix "SASL_" .Values.kafka.securityProtocol }}true{{ end }}
{{- end }}

{{/* KAFKA_USERNAME of one worker: its kafkaUser.name, else <fullname>-<worker> (the KafkaUser name). */}}
{{- define "paystream.kafka.username" -}}
{{- default (include "paystream.workerFullname" .) .w.kafkaUser.name }}
{{- end }}

{{/*
The Secret and key holding one worker's SASL password, as JSON {"name":…,"key":…}. Order:
the worker's own kafkaUser.existingSecret (key `password`), the Strimzi KafkaUser secret when
strimzi.users.enabled (named after the user, key `password`), else kafka.existingSecret with key
`<worker>-password`. kafkaUser.passwordKey overrides the key.
*/}}
{{- define "paystream.kafka.passwordSecret" -}}
{{- $name := "" }}
{{- $key := "password" }}
{{- if .w.kafkaUser.existingSecret }}
{{- $name = .w.kafkaUser.existingSecret }}
{{- else if .root.Values.strimzi.users.enabled }}
{{- $name = include "paystream.kafka.username" . }}
{{- else }}
{{- $name = .root.Values.kafka.existingSecret }}
{{- $key = printf "%s-password" .name }}
{{- end }}
{{- if .w.kafkaUser.passwordKey }}
{{- $key = .w.kafkaUser.passwordKey }}
{{- end }}
{{- if not $name }}
{{- fail (printf "%s: kafka.securityProtocol=%s needs a SASL password: set kafka.existingSecret, %s.kafkaUser.existingSecret or strimzi.users.enabled" .name .root.Values.kafka.securityProtocol .name) }}
{{- end }}
{{- toJson (dict "name" $name "key" $key) }}
{{- end }}

{{/*
Internal topic names of one worker (topics.internal sorted by env var, then the retry topics), as a
JSON list: topics the worker both writes and reads itself (the ledger's repartition topics,
notifications' retry tiers). Empty for most workers.
*/}}
{{- define "paystream.topics.internal" -}}
{{- $internal := default (dict) .w.topics.internal }}
{{- $out := list }}
{{- range $env := keys $internal | sortAlpha }}
{{- $out = append $out (index $internal $env) }}
{{- end }}
{{- $out = concat $out (include "paystream.topics.retry" . | fromJsonArray) }}
{{- toJson ($out | uniq) }}
{{- end }}

{{/*
Retry topics of one worker, as a JSON list in tier order: `<retry.topicPrefix><delay>` for each of
retry.delays (the notifications worker's retry tiers, which it writes and reads itself after the
delay). Empty for a worker without a `retry` block.
*/}}
{{- define "paystream.topics.retry" -}}
{{- $out := list }}
{{- with .w.retry }}
{{- range $d := .delays }}
{{- $out = append $out (printf "%s%s" $.w.retry.topicPrefix $d) }}
{{- end }}
{{- end }}
{{- toJson $out }}
{{- end }}

{{/*
Every topic the worker's consumer group reads, as a JSON list: topics.consumes sorted by env var,
then topics.internal. Dead-letter topics, changelogs and the KEDA partition bound derive from it.
*/}}
{{- define "paystream.topics.inputs" -}}
{{- $out := list }}
{{- range $env := keys .w.topics.consumes | sortAlpha }}
{{- $out = append $out (index $.w.topics.consumes $env) }}
{{- end }}
{{- $out = concat $out (include "paystream.topics.internal" . | fromJsonArray) }}
{{- range $t := .w.topics.patternInputs | default list }}
{{- $out = append $out $t }}
{{- end }}
{{- toJson ($out | uniq) }}
{{- end }}

{{/* External output topic names of one worker (topics.produces; no internal, dead-letter or changelog topics), as a JSON list. */}}
{{- define "paystream.topics.outputs" -}}
{{- $out := list }}
{{- range $env := keys .w.topics.produces | sortAlpha }}
{{- $out = append $out (index $.w.topics.produces $env) }}
{{- end }}
{{- toJson ($out | uniq) }}
{{- end }}

{{/* Dead-letter topics of one worker: <input>.dlq for every input (internal ones too), as a JSON list. */}}
{{- define "paystream.topics.dlq" -}}
{{- $out := list }}
{{- range $t := include "paystream.topics.inputs" . | fromJsonArray }}
{{- $out = append $out (printf "%s.dlq" $t) }}
{{- end }}
{{- toJson $out }}
{{- end }}

{{/*
Inputs of one worker that have a state store, as a JSON list: every named input (consumes and
internal) and every retry topic of a stateful worker except those whose env var is in statelessInputs; empty when
stateless. Pattern inputs (topics.patternInputs) never have one. This mirrors the worker's
`InputTopic::stateful` / `stateless` declarations.
*/}}
{{- define "paystream.topics.statefulInputs" -}}
{{- $out := list }}
{{- if .w.stateful }}
{{- $skip := default (list) .w.statelessInputs }}
{{- $byEnv := merge (dict) .w.topics.consumes (default (dict) .w.topics.internal) }}
{{- range $env := keys .w.topics.consumes | sortAlpha }}
{{- if not (has $env $skip) }}{{ $out = append $out (index $byEnv $env) }}{{ end }}
{{- end }}
{{- range $env := keys (default (dict) .w.topics.internal) | sortAlpha }}
{{- if not (has $env $skip) }}{{ $out = append $out (index $byEnv $env) }}{{ end }}
{{- end }}
{{- $out = concat $out (include "paystream.topics.retry" . | fromJsonArray) }}
{{- end }}
{{- toJson ($out | uniq) }}
{{- end }}

{{/* Changelog topic of one input: <group>.<input>.changelog (takes the worker dict plus `topic`). */}}
{{- define "paystream.topics.changelogOf" -}}
{{- printf "%s.%s.changelog" .w.groupId .topic }}
{{- end }}

{{/* Changelog topics of a stateful worker: <group>.<input>.changelog per stateful input, as a JSON list. */}}
{{- define "paystream.topics.changelog" -}}
{{- $out := list }}
{{- range $t := include "paystream.topics.statefulInputs" . | fromJsonArray }}
{{- $out = append $out (include "paystream.topics.changelogOf" (dict "w" $.w "topic" $t)) }}
{{- end }}
{{- toJson $out }}
{{- end }}

{{/*
Partition count of one topic (takes root, topic and optionally `of`, the input a dead-letter or
changelog topic belongs to): 1 for the audit hash chain's topics (a chain has one writer), else
strimzi.topics.overrides[topic].partitions, else the partitions of `of`, else
strimzi.topics.partitions. A changelog must have exactly its input's partitions (the worker
refuses to start otherwise), so the KafkaTopic template never lets an override differ.
*/}}
{{- define "paystream.topics.partitions" -}}
{{- $o := index .root.Values.strimzi.topics.overrides .topic | default dict }}
{{- $a := .root.Values.audit }}
{{- $chainInput := index (default (dict) $a.topics.internal) "TOPIC_CHAIN_INPUT" | default "" }}
{{- $single := list (index $a.topics.produces "TOPIC_AUDIT_LOG" | default "") $chainInput (printf "%s.%s.changelog" $a.groupId $chainInput) }}
{{- if has .topic $single }}
{{- 1 }}
{{- else if $o.partitions }}
{{- $o.partitions }}
{{- else if .of }}
{{- include "paystream.topics.partitions" (dict "root" .root "topic" .of) }}
{{- else }}
{{- .root.Values.strimzi.topics.partitions }}
{{- end }}
{{- end }}

{{/*
The environment of one worker as a flat map, rendered into its ConfigMap. Names are exactly the
runtime's (README.md "Configuration"); every value is a string. Secrets never appear here, only
the paths of their mounted files.
*/}}
{{- define "paystream.env" -}}
{{- $v := .root.Values }}
{{- $rt := include "paystream.runtime" . | fromJson }}
{{- $env := dict }}
{{- $_ := set $env "KAFKA_BOOTSTRAP_SERVERS" $v.kafka.bootstrapServers }}
{{- $_ := set $env "KAFKA_SECURITY_PROTOCOL" $v.kafka.securityProtocol }}
{{- if include "paystream.kafka.sasl" .root }}
{{- $_ := set $env "KAFKA_SASL_MECHANISM" $v.kafka.saslMechanism }}
{{- $_ := set $env "KAFKA_USERNAME" (include "paystream.kafka.username" .) }}
{{- $_ := set $env "KAFKA_PASSWORD_FILE" "/var/run/secrets/paystream/kafka/password" }}
{{- end }}
{{- if $v.kafka.tls.caSecret.name }}
{{- $_ := set $env "KAFKA_CA_FILE" "/var/run/secrets/paystream/kafka-ca/ca.crt" }}
{{- end }}
{{- if $v.kafka.clientCert.secretName }}
{{- $_ := set $env "KAFKA_CLIENT_CERT_FILE" "/var/run/secrets/paystream/kafka-client/tls.crt" }}
{{- $_ := set $env "KAFKA_CLIENT_KEY_FILE" "/var/run/secrets/paystream/kafka-client/tls.key" }}
{{- end }}
{{- if $v.kafka.allowInsecureDev }}
{{- $_ := set $env "PAYSTREAM_ALLOW_INSECURE_DEV" "true" }}
{{- end }}
{{- $_ := set $env "KAFKA_GROUP_ID" .w.groupId }}
{{- $_ := set $env "KAFKA_MAX_POLL_INTERVAL_MS" (toString $rt.maxPollIntervalMs) }}
{{- $_ := set $env "SCHEMA_REGISTRY_URL" $v.schemaRegistry.url }}
{{- if $v.schemaRegistry.auth.username }}
{{- $_ := set $env "SCHEMA_REGISTRY_USERNAME" $v.schemaRegistry.auth.username }}
{{- $_ := set $env "SCHEMA_REGISTRY_PASSWORD_FILE" "/var/run/secrets/paystream/schema-registry/password" }}
{{- end }}
{{- $_ := set $env "HTTP_BIND" (printf "0.0.0.0:%d" (int $v.http.port)) }}
{{- $_ := set $env "LOG_LEVEL" $rt.logLevel }}
{{- if $v.otel.enabled }}
{{- $_ := set $env "OTEL_EXPORTER_OTLP_ENDPOINT" $v.otel.endpoint }}
{{- end }}
{{- $_ := set $env "SHUTDOWN_GRACE_SECONDS" (toString $rt.shutdownGraceSeconds) }}
{{- $_ := set $env "MAX_IN_FLIGHT" (toString $rt.maxInFlight) }}
{{- $_ := set $env "MAX_CONCURRENT_PER_PARTITION" (toString $rt.maxConcurrentPerPartition) }}
{{- $_ := set $env "RETRY_MAX_ATTEMPTS" (toString $rt.retry.maxAttempts) }}
{{- $_ := set $env "RETRY_INITIAL_BACKOFF_MS" (toString $rt.retry.initialBackoffMs) }}
{{- $_ := set $env "RETRY_MAX_BACKOFF_MS" (toString $rt.retry.maxBackoffMs) }}
{{- range $k, $t := .w.topics.consumes }}
{{- $_ := set $env $k $t }}
{{- end }}
{{- range $k, $t := .w.topics.produces }}
{{- $_ := set $env $k $t }}
{{- end }}
{{- range $k, $t := default (dict) .w.topics.internal }}
{{- $_ := set $env $k $t }}
{{- end }}
{{- if eq .name "payments" }}
{{- $c := .w.config }}
{{- $_ := set $env "PAYMENTS_MAX_AMOUNT_MINOR" (toString (int64 $c.maxAmountMinor)) }}
{{- $_ := set $env "PAYMENTS_REVIEW_THRESHOLD_MINOR" (toString (int64 $c.reviewThresholdMinor)) }}
{{- $_ := set $env "PAYMENTS_VELOCITY_MAX_REQUESTS" (toString $c.velocityMaxRequests) }}
{{- $_ := set $env "PAYMENTS_VELOCITY_WINDOW_SECONDS" (toString $c.velocityWindowSeconds) }}
{{- $_ := set $env "PAYMENTS_BLOCKED_COUNTRIES" (join "," $c.blockedCountries) }}
{{- end }}
{{- if eq .name "ledger" }}
{{- $_ := set $env "LEDGER_OVERDRAFT_ALLOWED_PREFIXES" (join "," .w.config.overdraftAllowedPrefixes) }}
{{- end }}
{{- if eq .name "notifications" }}
{{- $c := .w.config }}
{{- $f := include "paystream.notifications.files" . | fromJson }}
{{- $_ := set $env "TOPIC_RETRY_PREFIX" .w.retry.topicPrefix }}
{{- $_ := set $env "NOTIFICATION_RETRY_DELAYS" (join "," .w.retry.delays) }}
{{- $_ := set $env "NOTIFY_TEMPLATES_DIR" "/etc/paystream/notifications/templates" }}
{{- $_ := set $env "NOTIFY_RULES_FILE" "/etc/paystream/notifications/rules.yaml" }}
{{- $_ := set $env "NOTIFY_RECIPIENTS_FILE" "/etc/paystream/notifications/recipients.yaml" }}
{{- $_ := set $env "NOTIFY_FALLBACK_LOCALE" $c.fallbackLocale }}
{{- $_ := set $env "NOTIFY_DEDUP_HORIZON" (toString (int64 $c.dedupHorizon)) }}
{{- range $s := $f.secrets }}
{{- $_ := set $env $s.env (printf "%s/%s" $s.dir $s.file) }}
{{- end }}
{{- with $c.email }}
{{- if .host }}
{{- $_ := set $env "SMTP_HOST" .host }}
{{- if .port }}{{ $_ := set $env "SMTP_PORT" (toString .port) }}{{ end }}
{{- $_ := set $env "SMTP_MODE" .mode }}
{{- if .allowInsecure }}{{ $_ := set $env "SMTP_ALLOW_INSECURE" "true" }}{{ end }}
{{- if .username }}{{ $_ := set $env "SMTP_USERNAME" .username }}{{ end }}
{{- $_ := set $env "SMTP_FROM" .from }}
{{- $_ := set $env "SMTP_TIMEOUT_MS" (toString .timeoutMs) }}
{{- end }}
{{- end }}
{{- with $c.sms }}
{{- if .baseUrl }}
{{- $_ := set $env "SMS_BASE_URL" .baseUrl }}
{{- $_ := set $env "SMS_ACCOUNT_SID" .accountSid }}
{{- if .from }}{{ $_ := set $env "SMS_FROM" .from }}{{ end }}
{{- if .messagingServiceSid }}{{ $_ := set $env "SMS_MESSAGING_SERVICE_SID" .messagingServiceSid }}{{ end }}
{{- $_ := set $env "SMS_TIMEOUT_MS" (toString .timeoutMs) }}
{{- end }}
{{- end }}
{{- with $c.push }}
{{- if .baseUrl }}
{{- $_ := set $env "PUSH_BASE_URL" .baseUrl }}
{{- $_ := set $env "PUSH_PROJECT_ID" .projectId }}
{{- $_ := set $env "PUSH_TIMEOUT_MS" (toString .timeoutMs) }}
{{- end }}
{{- end }}
{{- if $c.webhook.secret.name }}
{{- $_ := set $env "WEBHOOK_TIMEOUT_MS" (toString $c.webhook.timeoutMs) }}
{{- with $c.webhook.allowedHosts }}
{{- $_ := set $env "WEBHOOK_ALLOWED_HOSTS" (join "," .) }}
{{- end }}
{{- end }}
{{- $_ := set $env "BREAKER_THRESHOLD" (toString $c.breaker.threshold) }}
{{- $_ := set $env "BREAKER_COOL_DOWN_MS" (toString $c.breaker.coolDownMs) }}
{{- range $ch := list "email" "sms" "push" "webhook" }}
{{- $_ := set $env (printf "RATE_LIMIT_%s_PER_SECOND" (upper $ch)) (toString (index $c.rateLimitsPerSecond $ch)) }}
{{- end }}
{{- end }}
{{- range $k, $val := .w.extraEnv }}
{{- $_ := set $env $k (toString $val) }}
{{- end }}
{{- toJson $env }}
{{- end }}

{{/*
The notifications worker's mounted files, as JSON {"secrets": [...], "configFiles": [...]}:
`secrets` lists each configured provider Secret as {volume, secret, key, dir, file, env} (mounted
read-only at dir, its key as `file`; `env` is the *_FILE variable pointing at it); `configFiles`
lists the file names (rules.yaml, recipients.yaml) whose content files.<name> overrides, mounted
from the `<fullname>-notifications-files` ConfigMap over the image's file.
*/}}
{{- define "paystream.notifications.files" -}}
{{- $c := .w.config }}
{{- $dir := "/var/run/secrets/paystream/notifications" }}
{{- $secrets := list }}
{{- if $c.providerCa.secretName }}
{{- $secrets = append $secrets (dict "volume" "notify-provider-ca" "secret" $c.providerCa.secretName "key" $c.providerCa.key "dir" (printf "%s/provider-ca" $dir) "file" "ca.crt" "env" "NOTIFY_CA_FILE") }}
{{- end }}
{{- if and $c.email.host $c.email.passwordSecret.name }}
{{- $secrets = append $secrets (dict "volume" "notify-smtp" "secret" $c.email.passwordSecret.name "key" $c.email.passwordSecret.key "dir" (printf "%s/smtp" $dir) "file" "password" "env" "SMTP_PASSWORD_FILE") }}
{{- end }}
{{- if and $c.sms.baseUrl $c.sms.authTokenSecret.name }}
{{- $secrets = append $secrets (dict "volume" "notify-sms" "secret" $c.sms.authTokenSecret.name "key" $c.sms.authTokenSecret.key "dir" (printf "%s/sms" $dir) "file" "auth-token" "env" "SMS_AUTH_TOKEN_FILE") }}
{{- end }}
{{- if and $c.push.baseUrl $c.push.tokenSecret.name }}
{{- $secrets = append $secrets (dict "volume" "notify-push" "secret" $c.push.tokenSecret.name "key" $c.push.tokenSecret.key "dir" (printf "%s/push" $dir) "file" "token" "env" "PUSH_TOKEN_FILE") }}
{{- end }}
{{- if $c.webhook.secret.name }}
{{- $secrets = append $secrets (dict "volume" "notify-webhook" "secret" $c.webhook.secret.name "key" $c.webhook.secret.key "dir" (printf "%s/webhook" $dir) "file" "secret" "env" "WEBHOOK_SECRET_FILE") }}
{{- end }}
{{- $files := list }}
{{- range $name := list "rules" "recipients" }}
{{- if index $.w.files $name }}{{ $files = append $files (printf "%s.yaml" $name) }}{{ end }}
{{- end }}
{{- toJson (dict "secrets" $secrets "configFiles" $files) }}
{{- end }}

{{/*
The TCP ports of the notifications worker's configured providers, as a sorted JSON list: the SMTP
port (explicit, else the mode's default), the port of sms/push baseUrl (explicit, else 443 for
https and 80 for http), and webhook.ports when webhooks are on. Empty when no channel is configured.
*/}}
{{- define "paystream.notifications.providerPorts" -}}
{{- $c := .w.config }}
{{- $ports := list }}
{{- if $c.email.host }}
{{- $ports = append $ports (int (default (get (dict "starttls" 587 "tls" 465 "plain" 25) $c.email.mode) $c.email.port)) }}
{{- end }}
{{- range $url := list $c.sms.baseUrl $c.push.baseUrl }}
{{- if $url }}
{{- $u := urlParse $url }}
{{- $hostPort := splitList ":" $u.host }}
{{- if gt (len $hostPort) 1 }}
{{- $ports = append $ports (int (last $hostPort)) }}
{{- else }}
{{- $ports = append $ports (ternary 80 443 (eq $u.scheme "http")) }}
{{- end }}
{{- end }}
{{- end }}
{{- if $c.webhook.secret.name }}
{{- range $p := $c.webhook.ports }}{{ $ports = append $ports (int $p) }}{{ end }}
{{- end }}
{{- toJson ($ports | uniq | sortAlpha) }}
{{- end }}

{{/*
Checks of the notifications block that fail the render, mirroring what the worker refuses at
startup (exit 64): retry delays must grow; a configured channel needs its companion settings.
*/}}
{{- define "paystream.notifications.validate" -}}
{{- $c := .w.config }}
{{- $last := 0 }}
{{- range $d := .w.retry.delays }}
{{- $n := int (trimSuffix "s" (trimSuffix "m" (trimSuffix "h" $d))) }}
{{- $secs := mul $n (get (dict "s" 1 "m" 60 "h" 3600) (substr (int (sub (len $d) 1)) (len $d) $d)) }}
{{- if le (int $secs) (int $last) }}
{{- fail (printf "notifications.retry.delays: %s is not longer than the tier before it; tiers must grow" $d) }}
{{- end }}
{{- $last = $secs }}
{{- end }}
{{- if $c.email.host }}
{{- if ne (not $c.email.username) (not $c.email.passwordSecret.name) }}
{{- fail "notifications.config.email: username and passwordSecret.name go together (SMTP AUTH needs both)" }}
{{- end }}
{{- if and (eq $c.email.mode "plain") (not $c.email.allowInsecure) }}
{{- fail "notifications.config.email.mode=plain is unencrypted: it needs email.allowInsecure=true (development only)" }}
{{- end }}
{{- end }}
{{- if $c.sms.baseUrl }}
{{- if or (not $c.sms.accountSid) (not $c.sms.authTokenSecret.name) }}
{{- fail "notifications.config.sms.baseUrl needs sms.accountSid and sms.authTokenSecret.name" }}
{{- end }}
{{- if eq (not $c.sms.from) (not $c.sms.messagingServiceSid) }}
{{- fail "notifications.config.sms.baseUrl needs exactly one of sms.from and sms.messagingServiceSid" }}
{{- end }}
{{- end }}
{{- if and $c.push.baseUrl (or (not $c.push.projectId) (not $c.push.tokenSecret.name)) }}
{{- fail "notifications.config.push.baseUrl needs push.projectId and push.tokenSecret.name" }}
{{- end }}
{{- end }}

{{/*
Checks that fail the render with a message naming the offending values: the drain deadline must
end before the kubelet's SIGKILL; statelessInputs names only the worker's own input env vars; no
topic has two roles in one worker (the ledger refuses that at startup); the internal topics of a
worker have one partition count (the ledger's stages route by partition); and unencrypted Kafka
needs the explicit development switch (the runtime refuses it too, with exit code 64).
*/}}
{{- define "paystream.validate" -}}
{{- $rt := include "paystream.runtime" . | fromJson }}
{{- if ge (int $rt.shutdownGraceSeconds) (int $rt.terminationGracePeriodSeconds) }}
{{- fail (printf "%s: runtime.shutdownGraceSeconds (%v) must be below runtime.terminationGracePeriodSeconds (%v)" .name $rt.shutdownGraceSeconds $rt.terminationGracePeriodSeconds) }}
{{- end }}
{{- $internal := default (dict) .w.topics.internal }}
{{- range $env := default (list) .w.statelessInputs }}
{{- if not (or (hasKey $.w.topics.consumes $env) (hasKey $internal $env)) }}
{{- fail (printf "%s.statelessInputs: %s is neither in topics.consumes nor in topics.internal" $.name $env) }}
{{- end }}
{{- end }}
{{- $seen := dict }}
{{- range $m := list .w.topics.consumes .w.topics.produces $internal }}
{{- range $env, $t := $m }}
{{- if and (hasKey $seen $t) (ne (index $seen $t) $env) }}
{{- fail (printf "%s: topic %s is configured as both %s and %s; every topic of a worker has one role" $.name $t (index $seen $t) $env) }}
{{- end }}
{{- $_ := set $seen $t $env }}
{{- end }}
{{- end }}
{{- $parts := dict }}
{{- range $t := include "paystream.topics.internal" . | fromJsonArray }}
{{- $_ := set $parts $t (include "paystream.topics.partitions" (dict "root" $.root "topic" $t)) }}
{{- end }}
{{- if gt (len (values $parts | uniq)) 1 }}
{{- fail (printf "%s: the internal topics must have the same partition count (strimzi.topics.overrides), have %s" .name (toJson $parts)) }}
{{- end }}
{{- range $t := include "paystream.topics.retry" . | fromJsonArray }}
{{- if hasKey $seen $t }}
{{- fail (printf "%s: retry topic %s is also configured as %s; every topic of a worker has one role" $.name $t (index $seen $t)) }}
{{- end }}
{{- end }}
{{- if eq .name "notifications" }}
{{- include "paystream.notifications.validate" . }}
{{- end }}
{{- if and (has .root.Values.kafka.securityProtocol (list "PLAINTEXT" "SASL_PLAINTEXT")) (not .root.Values.kafka.allowInsecureDev) }}
{{- fail (printf "kafka.securityProtocol=%s is unencrypted: it needs kafka.allowInsecureDev=true (local development only)" .root.Values.kafka.securityProtocol) }}
{{- end }}
{{- end }}
