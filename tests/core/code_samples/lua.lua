-- Tiny event bus.
local Bus = {}
Bus.__index = Bus

local MAX_HANDLERS = 16

function Bus.new()
  local self = setmetatable({}, Bus)
  self.handlers = {}
  self.count = 0
  return self
end

function Bus:on(name, handler)
  if self.count >= MAX_HANDLERS then
    error("too many handlers")
  end
  self.handlers[name] = self.handlers[name] or {}
  table.insert(self.handlers[name], handler)
  self.count = self.count + 1
end

return Bus
