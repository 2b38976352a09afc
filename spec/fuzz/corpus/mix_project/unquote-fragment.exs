defmodule A.MixProject do
  use Mix.Project
  name = :project
  def unquote(name)(), do: [app: :real]
  def project, do: [app: :decoy]
end
