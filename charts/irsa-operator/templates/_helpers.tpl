{{/* The chart's name, or nameOverride. */}}
{{- define "irsa-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the release's objects: fullnameOverride, or <release>-<chart>, or just <release>
when it already contains the chart's name. Cut to 63 characters (DNS label).
*/}}
{{- define "irsa-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "irsa-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "irsa-operator.labels" -}}
helm.sh/chart: {{ include "irsa-operator.chart" . }}
{{ include "irsa-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "irsa-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "irsa-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "irsa-operator.serviceAccountName" -}}
{{- default (include "irsa-operator.fullname" .) .Values.serviceAccount.name }}
{{- end }}

{{/* Port of /healthz, /readyz and /metrics: config.httpPort when set. */}}
{{- define "irsa-operator.httpPort" -}}
{{- .Values.config.httpPort | default 8080 }}
{{- end }}
