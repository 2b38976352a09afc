defmodule Helper do
  def set(module), do: Module.put_attribute(module, :app, :real)
end

defmodule A.MixProject do
  use Mix.Project
  @app :decoy
  Helper.set(__MODULE__)
  def project, do: [app: @app]
end
