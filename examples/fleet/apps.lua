-- The fleet: one line per service.
return {
  { name = "api", port = 4000, workers = 2 },
  { name = "billing", port = 4100 },
  { name = "search", port = 4200, memory_hungry = true },
  { name = "notifier", port = 4300 },
}
