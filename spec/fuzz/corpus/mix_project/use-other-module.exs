defmodule Defaults do
  defmacro __using__(_) do
    quote do
      def project, do: [app: :real]
    end
  end
end
defmodule A.MixProject do
  use Mix.Project
  use Defaults
  def project, do: [app: :decoy]
end
