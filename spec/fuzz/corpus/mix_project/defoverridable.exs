defmodule Foo.MixProject do
  use Mix.Project
  def project do
    [app: :decoy, version: "0.1.0"]
  end
  defoverridable project: 0
  def project do
    [app: :real, version: "0.1.0"]
  end
end
