-- The smallest config: one Elixir release with every default.
-- `app_name` may be left out when a mix.exs sits beside this file.
return {
  app_name = "foo_bar",
}
