defmodule A.MixProject do
  use Mix.Project
  def project, do: [app: :first]
end
defmodule B.MixProject do
  use Mix.Project
  def project, do: [app: :second]
end
