defmodule A.MixProject do
  use Mix.Project
  quote do: 1
  true |> if do
    def project, do: [app: :real]
  end
  def project, do: [app: :decoy]
end
