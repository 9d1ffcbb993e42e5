-- Argo CD health check for irsa.dev/IamServiceAccount, from the kstatus-style conditions the
-- operator writes (src/controller/status.ts). config/argocd/argocd-cm-patch.yaml embeds this file
-- verbatim; test/unit/argocd-health.test.ts checks that the two agree.
local hs = {}

local function condition(conditions, name)
  for _, c in ipairs(conditions) do
    if c.type == name then
      return c
    end
  end
  return nil
end

local function describe(c)
  if c.reason ~= nil and c.reason ~= "" then
    return c.reason .. ": " .. (c.message or "")
  end
  return c.message or ""
end

local generation = obj.metadata.generation
local status = obj.status
if status == nil or status.conditions == nil or #status.conditions == 0
    or (generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation)) then
  hs.status = "Progressing"
  if generation ~= nil then
    hs.message = "Waiting for the operator to reconcile generation " .. generation
  else
    hs.message = "Waiting for the operator to reconcile"
  end
  return hs
end

local stalled = condition(status.conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end

local ready = condition(status.conditions, "Ready")
if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition"
elseif ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
elseif ready.status == "False" then
  local reconciling = condition(status.conditions, "Reconciling")
  if reconciling ~= nil and reconciling.status == "True" then
    hs.status = "Progressing"
    hs.message = describe(reconciling)
  else
    hs.status = "Degraded"
    hs.message = describe(ready)
  end
else
  hs.status = "Progressing"
  hs.message = describe(ready)
end
return hs
