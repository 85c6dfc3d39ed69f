{{/*
Names. fullname is cut to 30 characters so that "<fullname>-population-headless"
and the StatefulSet's controller-revision-hash label stay within 63.
*/}}
{{- define "jaring.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 30 | trimSuffix "-" }}
{{- end }}

{{- define "jaring.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 30 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 30 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 30 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Labels. Called with (dict "root" $ "component" "population").
*/}}
{{- define "jaring.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jaring.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "jaring.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "jaring.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: jaring
{{- end }}

{{- define "jaring.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "jaring.bootstrap" -}}
{{- required "kafka.bootstrap is required: the Kafka bootstrap servers (the chart has no embedded log)" .Values.kafka.bootstrap }}
{{- end }}

{{/*
TLS flags of `jaring serve`, as container args. The Secret is mounted at
/etc/jaring/tls (tls.crt, tls.key, ca.crt). jaring serves plaintext only on
a loopback address (--plaintext), which nothing outside the pod can reach.
*/}}
{{- define "jaring.tlsArgs" -}}
{{- if not .Values.tls.enabled }}
{{- fail "tls.enabled=false: jaring serves plaintext only on loopback, so a pod must serve TLS (tls.secretName)" }}
{{- end -}}
- --tls-cert
- /etc/jaring/tls/tls.crt
- --tls-key
- /etc/jaring/tls/tls.key
{{- if .Values.tls.clientCA }}
- --tls-client-ca
- /etc/jaring/tls/ca.crt
{{- end }}
- --auth-key
- /etc/jaring/auth/auth.key
- --audience
- {{ .Values.auth.audience | quote }}
{{- end }}

{{- define "jaring.volumeMounts" -}}
- name: data
  mountPath: /var/lib/jaring
- name: tmp
  mountPath: /tmp
- name: tls
  mountPath: /etc/jaring/tls
  readOnly: true
- name: auth-key
  mountPath: /etc/jaring/auth
  readOnly: true
{{- end }}

{{- define "jaring.volumes" -}}
- name: tmp
  emptyDir: {}
- name: tls
  secret:
    secretName: {{ .Values.tls.secretName }}
    defaultMode: 0440
- name: auth-key
  secret:
    secretName: {{ .Values.auth.tokenKeySecret }}
    defaultMode: 0440
{{- end }}

{{/*
Pod-level scheduling and security, the same for every service.
*/}}
{{- define "jaring.podSpec" -}}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
