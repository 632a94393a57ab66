// The floor of a render: Node start plus loading every module the render path loads, doing nothing.
import '../stacks/render';
