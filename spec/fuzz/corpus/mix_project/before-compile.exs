defmodule Later do
  defmacro __before_compile__(_) do
    quote do
      defoverridable project: 0
      def project, do: [app: :real]
    end
  end
end
defmodule A.MixProject do
  use Mix.Project
  @before_compile Later
  def project, do: [app: :decoy]
end
