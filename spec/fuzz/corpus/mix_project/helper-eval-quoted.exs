defmodule Helper do
  def define(module), do: Module.eval_quoted(module, quote(do: def(project, do: [app: :real])))
end

defmodule A.MixProject do
  use Mix.Project
  Helper.define(__MODULE__)
  def project, do: [app: :decoy]
end
