defmodule FooBar.MixProject do
  use Mix.Project

  defmodule Old do
    def project do
      [app: :wrong]
    end
  end

  def project do
    [
      app: :foo_bar,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      deps: deps()
    ]
  end

  defp deps do
    []
  end
end
