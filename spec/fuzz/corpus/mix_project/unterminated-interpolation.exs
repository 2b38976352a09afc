defmodule FooBar.MixProject do
  use Mix.Project

  def project do
    [
      app: :foo_bar,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      deps: deps()
    ]
  end

  defp x, do: "#{oops"
  defp deps do
    []
  end
end

# app: :foo_bar
