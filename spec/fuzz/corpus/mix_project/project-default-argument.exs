defmodule A.MixProject do
  use Mix.Project
  def project(x \\ :real), do: [app: x]
  def project, do: [app: :decoy]
end
