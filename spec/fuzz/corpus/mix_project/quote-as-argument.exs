defmodule A.MixProject do
  use Mix.Project
  if true,
    quote do
      def project, do: [app: :real]
    end
  def project, do: [app: :decoy]
end
