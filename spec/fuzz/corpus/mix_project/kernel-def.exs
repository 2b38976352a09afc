defmodule A.MixProject do
  use Mix.Project
  Kernel.def(project(), do: [app: :real])
  def project, do: [app: :decoy]
end
