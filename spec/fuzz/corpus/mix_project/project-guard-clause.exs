defmodule A.MixProject do
  use Mix.Project
  def project when true, do: [app: :real]
  def project, do: [app: :decoy]
end
