defmodule FooBar.MixProject do
  use Mix.Project
  def project do
    ["app": :foo_bar]
  end
end
