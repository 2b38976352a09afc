defmodule Swap do
  def parse_transform(forms, _opts), do: swap(forms)
  defp swap({:atom, line, :decoy}), do: {:atom, line, :real}
  defp swap(t) when is_tuple(t), do: t |> Tuple.to_list() |> swap() |> List.to_tuple()
  defp swap(l) when is_list(l), do: Enum.map(l, &swap/1)
  defp swap(x), do: x
end
defmodule A.MixProject do
  use Mix.Project
  @compile {:parse_transform, Swap}
  def project, do: [app: :decoy]
end
