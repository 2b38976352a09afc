defmodule FooBar.MixProject do
  use Mix.Project

  def project do
    [
      quote: ?", note: "app: :wrong",
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
